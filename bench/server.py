"""The ml_server as `make run` starts it (same command, production settings), on a free port with a
throw-away database, timed from process start to `/ready`."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

from scripts.front import running_front
from scripts.services import WSGI_APP, manage, services_from_env
from testsupport.servers import Gunicorn, cpu_seconds, free_port, process_tree

READY_TIMEOUT_S = 180.0
UNTHROTTLED = "1000000/s"  # the API throttle stays in the path, never answers 429 here, and counts per 1 s window
# Every wrk connection comes from 127.0.0.1, where the benchmark's connections stand for as many
# clients: the front's per-client connection limit (16 by default) is raised above the most it opens.
MANY_CLIENTS = {"FRONT_CONNECTIONS_PER_CLIENT": "64"}


@dataclass
class RunningServer:
    base_url: str
    process: subprocess.Popen[bytes]
    start_to_ready_s: float
    log: Path
    cpu_to_ready_s: float = 0.0  # CPU time the server's processes spent getting there

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def processes(self) -> list[psutil.Process]:
        """The gunicorn master, then its workers."""
        return process_tree(self.process.pid)

    def worker_rss_bytes(self) -> list[int]:
        return [p.memory_info().rss for p in self.processes()[1:]]

    def worker_pids(self) -> set[int]:
        """gunicorn replaces a worker after `max_requests`; a new pid means a restart (models reload)."""
        return {child.pid for child in psutil.Process(self.process.pid).children()}


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict
    seconds: float


def server_env(*, port: int, models_dir: Path, workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ML_SERVER_PORT=str(port),
        HOST="127.0.0.1",
        SECRET_KEY=secrets.token_urlsafe(50),
        MODELS_DIR=str(models_dir),
        DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
        DEBUG="0",
        PYTHONUNBUFFERED="1",
        PREDICT_THROTTLE_RATE=UNTHROTTLED,
    )
    return env


def call(url: str, *, data: bytes | None = None, content_type: str | None = None, timeout: float = 120) -> Answer:
    """One request from Python (for checks and one-off timings, never for throughput)."""
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type} if content_type else {})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    seconds = time.perf_counter() - started
    try:
        body = json.loads(raw)
    except ValueError:
        body = {"raw": raw[:200].decode("latin-1")}
    return Answer(status, body, seconds)


@contextlib.contextmanager
def ml_server(
    *, models_dir: Path, workdir: Path, wsgi_app: str = WSGI_APP, extra_env: Mapping[str, str] | None = None
) -> Iterator[RunningServer]:
    """Migrate a fresh database, start gunicorn with the service's config, wait for `/ready`."""
    port = free_port()
    service = services_from_env({"ML_SERVER_PORT": str(port)})[0]
    env = server_env(port=port, models_dir=models_dir, workdir=workdir) | dict(extra_env or {})
    manage(service, env, "migrate", "--noinput", "--verbosity", "0")
    log = workdir / f"ml_server-{port}.log"
    started = time.perf_counter()
    server = Gunicorn("ml_server", env, log, port=port, ready_path="/ready", wsgi_app=wsgi_app, timeout=READY_TIMEOUT_S)
    try:
        server.start()
        assert server.process is not None
        running = RunningServer(server.url, server.process, time.perf_counter() - started, log)
        running.cpu_to_ready_s = cpu_seconds(running.processes())
        yield running
    finally:
        server.stop()


@dataclass
class RunningFront:
    base_url: str
    config: Path

    def processes(self) -> list[psutil.Process]:
        """The nginx master (started with this config) and its worker."""
        masters = [
            process
            for process in psutil.process_iter(["cmdline"])
            if str(self.config) in (process.info["cmdline"] or [])
        ]
        return [process for master in masters for process in (master, *master.children())]


@contextlib.contextmanager
def nginx_front(
    server: RunningServer, workdir: Path, *, env: Mapping[str, str] = MANY_CLIENTS
) -> Iterator[RunningFront]:
    """`make run`'s nginx front (`scripts.front`: the same template and limits, FRONT_* settings from
    `env`) on a free port before `server`, reached over loopback TCP (`make run`: a unix socket)."""
    upstream = server.base_url.removeprefix("http://")
    services = services_from_env({"ML_SERVER_PORT": str(free_port()), "USER_SERVER_PORT": str(free_port())})
    upstreams = {service.name: upstream for service in services}  # the page's listener is unused here
    runtime = workdir / f"front-{server.port}"
    with running_front(runtime, services=services, upstreams=upstreams, env=env) as base_url:
        yield RunningFront(base_url.rstrip("/"), runtime / "nginx.conf")
