"""Request parsers shared by the API's views."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class LenientJSONParser(JSONParser):
    """JSON that may spell NaN/Infinity (Python's `json.dumps` does), so pixel validation can name
    them as bad pixels; absurdly deep nesting is a parse error, not a crash."""

    strict = False

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("JSON parse error - nested too deeply.") from error
