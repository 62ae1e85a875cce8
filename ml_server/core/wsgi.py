"""WSGI-level guard for bodies sent without a Content-Length (chunked transfer encoding).

Django reads a body only as far as Content-Length says, so a chunked body would silently arrive
empty. Here it is read up to the limit and passed on with its length, or refused with 413."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from core.errors import error_body

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ChunkedBodyLimit:
    def __init__(self, app: WsgiApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if environ.get("CONTENT_LENGTH") or not chunked:
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(self.limit + 1)
        if len(body) > self.limit:
            message = f"The request body is larger than the {self.limit / (1024 * 1024):g} MB limit."
            payload = json.dumps(error_body("too_large", message)).encode()
            headers = [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(payload))),
                ("Connection", "close"),
            ]
            start_response("413 Request Entity Too Large", headers)
            return [payload]
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        return self.app(environ, start_response)
