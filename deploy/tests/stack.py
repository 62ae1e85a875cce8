"""`make run` as a test starts it: `python -m scripts.run` (nginx front, both gunicorn services behind
it) on free loopback ports with a throwaway database and secret, stopped by SIGTERM whatever happens."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scripts.services import ROOT, answers_http

START_TIMEOUT_S = 240.0
STOP_TIMEOUT_S = 60.0
READY_LINE = "Ctrl-C stops both"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Stack:
    ml_port: int
    page_port: int
    process: subprocess.Popen
    output: Path
    env: dict[str, str]

    def text(self) -> str:
        return self.output.read_text(errors="replace")


def stack_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment of a test's `make run`: its own ports, database and secret (the developer's
    `.secret_key` and database stay untouched)."""
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "NUM_PROXIES"}}
    return {
        **env,
        "PYTHONPATH": str(ROOT),
        "ML_SERVER_PORT": str(free_port()),
        "USER_SERVER_PORT": str(free_port()),
        "SECRET_KEY": "make-run-test-" + "s" * 40,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **overrides,
    }


@contextlib.contextmanager
def make_run(tmp_path: Path, **overrides: str) -> Iterator[Stack]:
    """Start `scripts.run`, wait until it announces both addresses and the ml_server is ready, and stop
    it (SIGTERM) at the end."""
    env = stack_env(tmp_path, **overrides)
    output = tmp_path / "make_run.log"
    with output.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "scripts.run"], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    stack = Stack(int(env["ML_SERVER_PORT"]), int(env["USER_SERVER_PORT"]), process, output, env)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while READY_LINE not in stack.text() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        ready = f"http://127.0.0.1:{stack.ml_port}/ready"  # the default model loaded: no first-request wait
        while READY_LINE in stack.text() and not answers_http(ready, ok_only=True) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not answers_http(ready, ok_only=True):
            raise RuntimeError(f"make run did not come up:\n{stack.text()[-4000:]}")
        yield stack
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
