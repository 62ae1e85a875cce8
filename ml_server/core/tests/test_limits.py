"""The WSGI-level body limit for chunked bodies (the Content-Length limit is tested through the API)."""

from __future__ import annotations

import io
import json

from core.wsgi import ChunkedBodyLimit


def run(app: ChunkedBodyLimit, environ: dict) -> tuple[str, bytes]:
    status = []
    body = b"".join(app(environ, lambda line, _headers: status.append(line)))
    return status[0], body


def echo(environ, start_response):
    start_response("200 OK", [])
    return [environ["CONTENT_LENGTH"].encode(), b":", environ["wsgi.input"].read()]


def test_a_chunked_body_under_the_limit_reaches_django_with_its_length() -> None:
    environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b'{"pixels": []}')}
    assert run(ChunkedBodyLimit(echo, 100), environ) == ("200 OK", b'14:{"pixels": []}')


def test_a_chunked_body_over_the_limit_is_413_json() -> None:
    environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"x" * 101)}
    status, body = run(ChunkedBodyLimit(echo, 100), environ)
    assert status.startswith("413") and json.loads(body)["error"]["code"] == "too_large"


def test_bodies_with_a_content_length_pass_untouched() -> None:
    environ = {"CONTENT_LENGTH": "3", "wsgi.input": io.BytesIO(b"abc")}
    assert run(ChunkedBodyLimit(echo, 1), environ) == ("200 OK", b"3:abc")


def test_the_wsgi_application_is_guarded() -> None:
    from config.wsgi import application

    assert isinstance(application, ChunkedBodyLimit)
