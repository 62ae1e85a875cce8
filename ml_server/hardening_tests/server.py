"""The ml_server as production runs it (gunicorn with `gunicorn.conf.py`) on a free loopback port,
for tests that need a real process: its own models folder, database and log file."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SERVICE_DIR = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log: Path

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json"
    ) -> tuple[int, dict]:
        """One request on a fresh connection; the answer's status and JSON body."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            headers = {"Content-Type": content_type} if body is not None else {}
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()

    def post_json(self, path: str, payload: object) -> tuple[int, dict]:
        return self.request("POST", path, json.dumps(payload).encode())

    def wait_for(self, path: str, status: int = 200, timeout: float = START_TIMEOUT_S) -> dict:
        """Poll until `path` answers `status` (the process must stay alive meanwhile)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                answer_status, body = self.request("GET", path)
                if answer_status == status:
                    return body
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{path} never answered {status}:\n{self.log.read_text()[-3000:]}")


@contextmanager
def gunicorn(models_dir: Path, log: Path, **env: str) -> Iterator[Server]:
    """Start gunicorn, wait for /health, and stop it (SIGTERM, then SIGKILL) whatever happens."""
    port = free_port()
    full_env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "DATABASE_URL"}}
    full_env |= {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ML_SERVER_PORT": str(port),
        "HOST": "127.0.0.1",
        "MODELS_DIR": str(models_dir),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **env,
    }
    command = [str(Path(sys.executable).with_name("gunicorn")), "-c", str(SERVICE_DIR / "gunicorn.conf.py")]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=full_env, stdout=output, stderr=subprocess.STDOUT)
    server = Server(port, process, log)
    try:
        server.wait_for("/health")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
