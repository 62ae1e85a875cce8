"""The ml_server under gunicorn (`testsupport.servers`) with production settings, and the few calls
the tests make to it over a real socket."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

from testsupport.servers import START_TIMEOUT_S, Gunicorn, gunicorn


@contextlib.contextmanager
def ml_gunicorn(models_dir: Path, log: Path, **env: str) -> Iterator[Gunicorn]:
    """The ml_server with production settings on `models_dir`, answering /health; stopped after."""
    full_env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "DATABASE_URL"}}
    full_env |= {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "MODELS_DIR": str(models_dir),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **env,
    }
    with gunicorn("ml_server", env=full_env, log=log) as server:
        yield server


def request(
    server: Gunicorn, method: str, path: str, body: bytes | None = None, content_type: str = "application/json"
) -> tuple[int, dict]:
    """One request on a fresh connection; the answer's status and JSON body."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": content_type} if body is not None else {})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def post_json(server: Gunicorn, path: str, payload: object) -> tuple[int, dict]:
    return request(server, "POST", path, json.dumps(payload).encode())


def wait_for_status(server: Gunicorn, path: str, status: int = 200, timeout: float = START_TIMEOUT_S) -> dict:
    """Poll until `path` answers `status` (the process must stay alive meanwhile); its body."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process is None or server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{server.tail()}")
        try:
            answer, body = request(server, "GET", path)
            if answer == status:
                return body
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{path} never answered {status}:\n{server.tail()}")
