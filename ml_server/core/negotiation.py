"""Content negotiation that picks a parser without re-parsing the Content-Type for every parser."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser


class PlainContentNegotiation(DefaultContentNegotiation):
    """DRF parses the request's Content-Type once for every parser it tries (with email.message when
    it has parameters, such as a multipart boundary: ~20 us each). Our parsers name concrete media
    types, so the bare type of the header finds its parser directly; anything else (wildcards,
    unknown types) is left to DRF's rules and errors."""

    def select_parser(self, request: Any, parsers: Sequence[BaseParser]) -> BaseParser | None:
        content_type = request.content_type or ""
        if len(content_type) <= self.max_media_type_length:
            bare = content_type.split(";", 1)[0].strip().lower()
            for parser in parsers:
                if parser.media_type == bare:
                    return parser
        return super().select_parser(request, parsers)
