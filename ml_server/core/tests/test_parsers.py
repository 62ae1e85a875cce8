"""The buffered multipart parser reads every body exactly as Django's parser does: plain bodies
itself, every other shape by handing them to Django's parser."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.test.client import encode_multipart
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ParseError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request

from core.parsers import BufferedMultiPartParser, plain_form

BOUNDARY = "Xb0undaryX"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def read(body: bytes, parser: object, content_type: str = CONTENT_TYPE) -> tuple[dict, dict]:
    """What a view sees: `request.data` (fields, and files as DRF adds them) and `request.FILES`,
    each file as (name, content type, charset, bytes)."""
    request = Request(RequestFactory().post("/predict", data=body, content_type=content_type), parsers=[parser])
    data = {field: [_seen(value) for value in values] for field, values in request.data.lists()}
    return data, {field: [_seen(f) for f in uploads] for field, uploads in request.FILES.lists()}


def _seen(value: object) -> object:
    if isinstance(value, str):
        return value
    content = value.read()
    value.seek(0)
    return (value.name, value.content_type, value.charset, content)


def both(body: bytes, content_type: str = CONTENT_TYPE) -> tuple[tuple[dict, dict], tuple[dict, dict]]:
    return read(body, BufferedMultiPartParser(), content_type), read(body, MultiPartParser(), content_type)


def part(headers: list[str], content: bytes) -> bytes:
    return "\r\n".join(headers).encode() + b"\r\n\r\n" + content


def body_of(*parts: bytes, preamble: bytes = b"", epilogue: bytes = b"\r\n") -> bytes:
    delimiter = f"--{BOUNDARY}".encode()
    between = b"\r\n" + delimiter + b"\r\n"
    return preamble + delimiter + b"\r\n" + between.join(parts) + b"\r\n" + delimiter + b"--" + epilogue


def file_part(content: bytes, filename: str = "canvas.png", extra: list[str] | None = None) -> bytes:
    headers = [f'Content-Disposition: form-data; name="image"; filename="{filename}"', "Content-Type: image/png"]
    return part(headers + (extra or []), content)


field_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=12)
file_bytes = st.binary(max_size=300).filter(lambda data: BOUNDARY.encode() not in data)


@settings(max_examples=60, deadline=None)
@given(
    fields=st.dictionaries(field_names, st.text(max_size=40).filter(lambda t: "\r" not in t), max_size=4),
    content=file_bytes,
)
def test_plain_bodies_read_the_same_as_with_djangos_parser(fields, content):
    body = encode_multipart(BOUNDARY, {**fields, "image": _named_file(content)})
    assert plain_form(body, CONTENT_TYPE, "utf-8") is not None  # the fast path was taken
    ours, django = both(body)
    assert ours == django


def test_a_canvas_upload_keeps_its_bytes_type_and_field():
    body = body_of(part(['Content-Disposition: form-data; name="model"'], b"cnn"), file_part(b"\x89PNG\r\n--"))
    data, files = read(body, BufferedMultiPartParser())
    upload = ("canvas.png", "image/png", None, b"\x89PNG\r\n--")
    assert data == {"model": ["cnn"], "image": [upload]}
    assert files == {"image": [upload]}


@pytest.mark.parametrize(
    "body",
    [
        body_of(file_part(b"png"), preamble=b"a preamble\r\n"),
        body_of(file_part(b"cG5n", extra=["Content-Transfer-Encoding: base64"])),
        body_of(file_part(b"png", filename="../../etc/passwd")),
        body_of(file_part(b"png", filename="")),
        body_of(file_part(b"png", filename="a&amp;b.png")),
        body_of(file_part(b"png"), epilogue=b"\r\nan epilogue"),
        body_of(file_part(f"\r\n--{BOUNDARY}tail".encode())),
        body_of(part(['Content-Disposition: attachment; name="model"'], b"cnn")),
        body_of(part(["X-Other: 1", 'Content-Disposition: form-data; name="model"'], b"cnn")),
        body_of(part(['Content-Disposition: form-data; name="m\xe9"'.encode().decode("latin-1")], b"cnn")),
    ],
    ids=[
        "preamble",
        "base64",
        "path-in-name",
        "empty-file-name",
        "entity-in-name",
        "epilogue",
        "boundary-in-content",
        "not-form-data",
        "other-header",
        "non-ascii-header",
    ],
)
def test_other_shapes_go_to_djangos_parser_and_read_the_same(body):
    assert plain_form(body, CONTENT_TYPE, "utf-8") is None
    ours, django = both(body)
    assert ours == django


def test_too_many_fields_are_left_to_djangos_limit(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 2
    body = body_of(*(part([f'Content-Disposition: form-data; name="f{k}"'], b"v") for k in range(5)))
    assert plain_form(body, CONTENT_TYPE, "utf-8") is None


@pytest.mark.parametrize(
    "body",
    [b"--" + BOUNDARY.encode() + b"\r\nno end", b"garbage"],
    ids=["unterminated", "garbage"],
)
def test_broken_bodies_read_as_djangos_parser_reads_them(body):
    try:
        expected = read(body, MultiPartParser())
    except ParseError:
        with pytest.raises(ParseError):
            read(body, BufferedMultiPartParser())
    else:
        assert read(body, BufferedMultiPartParser()) == expected


def test_a_bad_boundary_is_a_parse_error():
    with pytest.raises(ParseError):
        read(body_of(file_part(b"png")), BufferedMultiPartParser(), "multipart/form-data; boundary=")


def _named_file(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("canvas.png", content, content_type="image/png")
