"""The production server: gunicorn with `gunicorn.conf.py`, over a real socket."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

SERVICE_DIR = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture(scope="module")
def server(tiny_models_dir: Path):
    port = free_port()
    env = {
        **os.environ,
        "SECRET_KEY": "gunicorn-test-only",
        "ML_SERVER_PORT": str(port),
        "MODELS_DIR": str(tiny_models_dir),
        "DEFAULT_MODEL": "ann",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen([str(gunicorn), "-c", str(SERVICE_DIR / "gunicorn.conf.py")], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if fetch(f"{base}/ready")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("gunicorn never became ready")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


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
