"""Fixtures for the feedback tests: drawings to send, a clean throttle per test, and a throwaway
PostgreSQL server (Debian's `postgresql`, installed when missing and possible) for the postgres run."""

from __future__ import annotations

import base64
import glob
import io
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from PIL import Image, ImageDraw

APT_INSTALL = ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]


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


# --- a throwaway PostgreSQL cluster -------------------------------------------------------------


def _postgres_bin_dir() -> Path | None:
    def version(pg_ctl: str) -> list[int]:  # /usr/lib/postgresql/<version>/bin/pg_ctl
        return [int(number) for number in re.findall(r"\d+", Path(pg_ctl).parts[4])]

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=version)
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found else None


def _install_postgres() -> str | None:
    """Install Debian's postgresql when we can; return why not otherwise."""
    if os.geteuid() != 0:
        return "PostgreSQL is not installed and installing it needs root (apt-get install postgresql)."
    if shutil.which("apt-get") is None:
        return "PostgreSQL is not installed and there is no apt-get to install it with."
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(APT_INSTALL, capture_output=True, text=True, env=env, timeout=900, check=False)
    if result.returncode != 0:
        return f"apt-get install postgresql failed: {result.stderr.strip()[-500:]}"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """Start a private PostgreSQL server on a free loopback port for this test session and yield
    its URL; stop it and delete its files afterwards. PostgreSQL refuses to run as root, so as root
    the server runs as the `postgres` system user from a temporary folder that user owns."""
    bin_dir = _postgres_bin_dir()
    if bin_dir is None:
        reason = _install_postgres()
        bin_dir = _postgres_bin_dir()
        if bin_dir is None:
            print(f"skipping the PostgreSQL tests: {reason or 'pg_ctl not found after installing postgresql'}")
            pytest.skip(reason or "pg_ctl not found after installing postgresql")

    as_user: list[str] = []
    if os.geteuid() == 0:  # in /tmp, not $TMPDIR: the postgres user must be able to reach the folder
        as_user = ["runuser", "-u", "postgres", "--"]
        root = Path(tempfile.mkdtemp(prefix="feedback-pg-", dir="/tmp"))
        shutil.chown(root, user="postgres", group="postgres")
    else:
        root = Path(tempfile.mkdtemp(prefix="feedback-pg-"))
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    port = free_port()

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, text=True, timeout=120, cwd=root)

    try:
        run("mkdir", str(sockets))
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C")
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
    except subprocess.CalledProcessError as error:
        server_log = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {error.stderr}\n{server_log}") from error
    try:
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "feedback")
        yield f"postgresql://postgres@127.0.0.1:{port}/feedback"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
