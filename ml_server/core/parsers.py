"""Request parsers shared by the API's views."""

from __future__ import annotations

import io
import re
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.http import QueryDict
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.utils.datastructures import MultiValueDict
from django.utils.encoding import force_str
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, JSONParser, MultiPartParser, get_encoding

# The plain shape, as browsers, curl and requests write it: quoted parameters without escapes, a
# bare content type. Django's parse_header_parameters (email.message) costs ~20 us a header.
PLAIN_MEDIA_TYPE = re.compile(r'multipart/form-data;\s*boundary=(?:"([^"]+)"|([^";\s]+))\s*', re.IGNORECASE)
PLAIN_PART_HEADERS = frozenset({"content-disposition", "content-type"})
PLAIN_DISPOSITION = re.compile(r'\s*form-data((?:;\s*[a-z]+="[^"\\]*")+)\s*', re.IGNORECASE)
PLAIN_PARAMETER = re.compile(r';\s*([a-z]+)="([^"\\]*)"', re.IGNORECASE)
PLAIN_CONTENT_TYPE = re.compile(r"\s*([\w.+-]+/[\w.+-]+)?\s*")


class LenientJSONParser(JSONParser):
    """JSON that may spell NaN/Infinity (Python's `json.dumps` does), so pixel validation can name
    them as bad pixels; absurdly deep nesting is a parse error, not a crash."""

    strict = False

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("JSON parse error - nested too deeply.") from error


class BufferedMultiPartParser(MultiPartParser):
    """multipart/form-data split in one pass over the body, for the plain forms clients send.

    Django's parser streams parts through upload handlers, built for large uploads to disk; for a
    canvas PNG of a few kB its generators cost ~0.15 ms a request, more than decoding the PNG. Bodies
    here are small (BodySizeLimitMiddleware), so a body no larger than the in-memory upload limit, in
    the plain shape (no preamble, parts with Content-Disposition and maybe Content-Type only, plain
    file names, within the field and file count limits) is split here into the same QueryDict and
    in-memory files; any other body goes to Django's parser, with its limits and errors.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> DataAndFiles:
        body = stream.read() if stream is not None else b""
        encoding = get_encoding(parser_context or {})
        form = plain_form(body, media_type or "", encoding)
        if form is not None:
            return form
        return super().parse(io.BytesIO(body), media_type, parser_context)


def plain_form(body: bytes, media_type: str, encoding: str) -> DataAndFiles | None:
    """The fields and files of a plain multipart body, or None when Django's parser must read it."""
    match = PLAIN_MEDIA_TYPE.fullmatch(media_type)
    boundary = (match.group(1) or match.group(2)) if match else ""
    if not boundary.isascii() or not DjangoMultiPartParser.boundary_re.fullmatch(boundary):
        return None
    if len(body) > min(settings.FILE_UPLOAD_MAX_MEMORY_SIZE, settings.DATA_UPLOAD_MAX_MEMORY_SIZE or len(body)):
        return None
    opening = b"--" + boundary.encode("ascii") + b"\r\n"
    delimiter = b"\r\n" + opening[:-2]  # what precedes each later part, and the closing "--"
    closing = body.find(delimiter + b"--")
    if not body.startswith(opening) or closing < 0 or body[closing + len(delimiter) + 2 :] not in (b"", b"\r\n"):
        return None
    parts = body[len(opening) : closing].split(delimiter + b"\r\n")
    if body.count(delimiter) != len(parts):  # the boundary inside a part: let Django decide
        return None
    data, files = QueryDict(mutable=True, encoding=encoding), MultiValueDict()
    for part in parts:
        read = _plain_part(part)
        if read is None:
            return None
        name, filename, content_type, content = read
        if filename is None:
            data.appendlist(name, force_str(content, encoding, errors="replace"))
        else:
            upload = InMemoryUploadedFile(io.BytesIO(content), name, filename, content_type, len(content), None, {})
            files.appendlist(name, upload)
    file_count = sum(len(uploads) for uploads in files.lists())
    if not _within_limits(len(parts) - file_count, file_count):
        return None
    data._mutable = False
    return DataAndFiles(data, files)


def _plain_part(part: bytes) -> tuple[str, str | None, str, bytes] | None:
    """(field name, file name or None, content type, content) of one part."""
    head, separator, content = part.partition(b"\r\n\r\n")
    if not separator or not head.isascii():
        return None
    headers: dict[str, str] = {}
    for line in head.decode("ascii").split("\r\n"):
        name, colon, value = line.partition(":")
        name = name.strip().lower()
        if not colon or name not in PLAIN_PART_HEADERS or name in headers:
            return None
        headers[name] = value
    disposition = PLAIN_DISPOSITION.fullmatch(headers.get("content-disposition", ""))
    content_type = PLAIN_CONTENT_TYPE.fullmatch(headers.get("content-type", ""))
    if disposition is None or content_type is None:
        return None
    options = {key.lower(): value for key, value in PLAIN_PARAMETER.findall(disposition.group(1))}
    field_name, filename = options.get("name", "").strip(), options.get("filename")
    if not field_name or (filename is not None and not _plain_file_name(filename)):
        return None
    return field_name, filename, content_type.group(1) or "", content


def _plain_file_name(name: str) -> bool:
    """A file name Django's sanitizer would leave as it is (no path, entity or control character)."""
    return name not in {"", ".", ".."} and name.isprintable() and not any(char in name for char in "/\\&")


def _within_limits(fields: int, files: int) -> bool:
    most_fields, most_files = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS, settings.DATA_UPLOAD_MAX_NUMBER_FILES
    return (most_fields is None or fields <= most_fields) and (most_files is None or files <= most_files)
