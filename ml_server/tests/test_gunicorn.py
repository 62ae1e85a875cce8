"""The production server: gunicorn with `gunicorn.conf.py`, over a real socket."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .live import ml_gunicorn, wait_for_status

pytestmark = pytest.mark.slow


def fetch(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture(scope="module")
def server(tiny_models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("gunicorn") / "server.log"
    with ml_gunicorn(tiny_models_dir, log, DEFAULT_MODEL="ann") as running:
        wait_for_status(running, "/ready")
        yield running.url


def test_gunicorn_serves_health_ready_and_predictions(server) -> None:
    assert fetch(f"{server}/health") == (200, {"status": "ok"})
    assert fetch(f"{server}/ready") == (200, {"status": "ready", "model": "ann"})
    status, body = fetch(
        f"{server}/predict",
        json.dumps({"pixels": [0.0] * 400 + [1.0] * 28 + [0.0] * 356}).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 200 and body["model"] == "ann" and len(body["probabilities"]) == 10


def test_gunicorn_refuses_oversized_bodies_before_reading_them(server) -> None:
    """Only the headers are sent: the 413 comes back without the server waiting for 6 MB."""
    connection = http.client.HTTPConnection(server.removeprefix("http://"), timeout=10)
    connection.putrequest("POST", "/predict")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(6 * 1024 * 1024))
    connection.endheaders()
    response = connection.getresponse()
    assert (response.status, json.load(response)["error"]["code"]) == (413, "too_large")
    connection.close()


def test_gunicorn_reads_chunked_bodies_within_the_limit(server) -> None:
    def chunks():
        yield json.dumps({"pixels": [0.0] * 400 + [1.0] * 28 + [0.0] * 356}).encode()

    headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    status, body = fetch(f"{server}/predict", chunks(), headers)
    assert status == 200 and body["digit"] in range(10)
