"""Fixtures for the feedback tests: drawings to send, a clean throttle per test, and a throwaway
PostgreSQL server for the postgres run."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache
from PIL import Image, ImageDraw

from testsupport.servers import postgres


@pytest.fixture(autouse=True)
def fresh_throttle() -> Iterator[None]:
    """Throttle counters live in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


def draw_seven(image_format: str = "PNG", size: int = 200) -> bytes:
    """A thick dark 7 on white paper, the way the page's canvas sends a drawing."""
    image = Image.new("RGB", (size, size), "white")
    pen = ImageDraw.Draw(image)
    pen.line(
        [(0.25 * size, 0.2 * size), (0.75 * size, 0.2 * size), (0.4 * size, 0.85 * size)],
        fill="black",
        width=size // 12,
    )
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


@pytest.fixture
def seven_png() -> bytes:
    return draw_seven()


@pytest.fixture
def seven_data_url(seven_png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(seven_png).decode("ascii")


@pytest.fixture
def post_feedback(client) -> Callable[..., object]:
    """POST a JSON body to /feedback, or another `path` (any JSON value, so malformed bodies can be sent too)."""

    def post(body: object, path: str = "/feedback", **extra: str) -> object:
        return client.post(path, body, content_type="application/json", **extra)

    return post


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A private PostgreSQL server for this test session (see `testsupport.servers.postgres`)."""
    with postgres() as server:
        yield server.url
