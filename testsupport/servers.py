"""Throwaway servers on free loopback ports, each stopped (and its files deleted) when its block ends.

- `free_port()`: a port nothing listens on now; the OS picks it, so parallel runs never collide.
- `Gunicorn` / `gunicorn()`: the ml_server or the user_server as production runs it (the service's own
  `gunicorn.conf.py`, from its own folder), restartable on the same port.
- `make_run()`: both services as `make run` starts them, behind the nginx front.
- `postgres()`: a private PostgreSQL cluster (Debian's `postgresql`); `redis()`: a private `redis-server`.
  Both are installed by `scripts/system_deps.sh` (`make system-deps`); a test skips when they are absent.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from scripts.services import (
    ROOT,
    WSGI_APP,
    DidNotAnswer,
    Service,
    answers_http,
    service_command,
    stop_group,
    wait_until_ready,
)

START_TIMEOUT_S = 180.0  # the ml_server imports its model runtime and loads the default model first
POLL_S = 0.2


def process_tree(pid: int) -> list[psutil.Process]:
    """A process first, then every process under it (a gunicorn master and its workers)."""
    parent = psutil.Process(pid)
    return [parent, *parent.children(recursive=True)]


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User + system CPU time the processes have used so far; one that has exited meanwhile counts 0."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- gunicorn ------------------------------------------------------------------------------------


@dataclass
class Gunicorn:
    """One service (`ml_server` or `user_server`) under gunicorn on 127.0.0.1, stoppable and restartable
    on the same port; its output goes to `log`."""

    service: str
    env: Mapping[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    ready_path: str = "/health"
    wsgi_app: str = WSGI_APP
    timeout: float = START_TIMEOUT_S
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        service = Service(self.service, ROOT / self.service, self.port, migrates=self.service == "ml_server")
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                service_command(service, host="127.0.0.1", dev=False, wsgi_app=self.wsgi_app),
                cwd=service.folder,
                env=dict(self.env),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # stop() signals the master and its workers together
            )
        self.wait_for(self.ready_path)

    def wait_for(self, path: str, *, ok_only: bool = True) -> None:
        """Poll `path` until it answers (a 2xx with ok_only); the process must stay alive meanwhile."""
        assert self.process is not None, "not started"
        try:
            ready = functools.partial(answers_http, self.url + path, ok_only=ok_only)
            wait_until_ready(self.process, ready, what=path, timeout=self.timeout, poll_s=POLL_S)
        except DidNotAnswer as error:
            self.stop()
            raise DidNotAnswer(f"{self.service}: {error}:\n{self.tail()}") from None

    def processes(self) -> list[psutil.Process]:
        """The gunicorn master first, then its workers."""
        assert self.process is not None, "not started"
        return process_tree(self.process.pid)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop_group(self.process)

    def ensure_running(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self.start()


@contextlib.contextmanager
def gunicorn(service: str, *, env: Mapping[str, str], log: Path, **options: object) -> Iterator[Gunicorn]:
    """Start the service under gunicorn, wait for its ready path, and stop it whatever happens."""
    server = Gunicorn(service, env, log, **options)  # type: ignore[arg-type]
    try:
        server.start()
        yield server
    finally:
        server.stop()


# --- make run ------------------------------------------------------------------------------------


@dataclass
class MakeRun:
    """`make run` as a test starts it (`python -m scripts.run`: the nginx front on both public ports,
    both gunicorn services behind it); its output goes to `output`."""

    ml_port: int
    page_port: int
    process: subprocess.Popen
    output: Path
    env: dict[str, str]

    def text(self) -> str:
        return self.output.read_text(errors="replace")


MAKE_RUN_READY_LINE = "Ctrl-C stops both"


def production_env(**values: str) -> dict[str, str]:
    """This process's environment as a server started like `make run` gets it, plus `values`: no
    DEBUG or NUM_PROXIES of the caller's, and this checkout's code first on the path, whichever
    checkout the shared virtualenv was installed from."""
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "NUM_PROXIES"}}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return env | values


@contextlib.contextmanager
def make_run(workdir: Path, **overrides: str) -> Iterator[MakeRun]:
    """Start `scripts.run` on free ports with a throwaway database and secret (the developer's
    `.secret_key` and database stay untouched), wait until it announces both addresses and the
    ml_server is ready, and stop it (SIGTERM, then SIGKILL) whatever happens."""
    env = production_env(
        ML_SERVER_PORT=str(free_port()),
        USER_SERVER_PORT=str(free_port()),
        SECRET_KEY="make-run-test-" + "s" * 40,
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        **overrides,
    )
    output = workdir / "make_run.log"
    with output.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "scripts.run"], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    running = MakeRun(int(env["ML_SERVER_PORT"]), int(env["USER_SERVER_PORT"]), process, output, env)
    ready = f"http://127.0.0.1:{running.ml_port}/ready"  # the default model loaded: no first-request wait

    def announced_and_ready() -> bool:
        return MAKE_RUN_READY_LINE in running.text() and answers_http(ready, ok_only=True)

    try:
        try:
            wait_until_ready(process, announced_and_ready, what="make run", timeout=START_TIMEOUT_S, poll_s=POLL_S)
        except DidNotAnswer as error:
            raise DidNotAnswer(f"make run did not come up ({error}):\n{running.text()[-4000:]}") from None
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- PostgreSQL ----------------------------------------------------------------------------------


def postgres_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's programs (Debian keeps them out of PATH)."""

    def version(pg_ctl: str) -> list[int]:  # /usr/lib/postgresql/<version>/bin/pg_ctl
        return [int(number) for number in re.findall(r"\d+", Path(pg_ctl).parts[4])]

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=version)
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found else None


@dataclass
class Postgres:
    """A private cluster with one database, `feedback`, that a test may stop and start again.
    PostgreSQL refuses to run as root: as root it runs as the `postgres` user, from /tmp (which that
    user can reach, unlike a root-owned $TMPDIR)."""

    bin: Path
    root: Path
    port: int = field(default_factory=free_port)

    @property
    def as_user(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/feedback?connect_timeout=3"

    def run(self, *command: str) -> None:
        command_as_user = [*self.as_user, *command]
        subprocess.run(command_as_user, check=True, capture_output=True, text=True, timeout=120, cwd=self.root)

    def pg_ctl(self, *arguments: str) -> None:
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), *arguments)

    def init(self) -> None:
        self.run("mkdir", str(self.root / "sockets"))
        initdb = [str(self.bin / "initdb"), "-D", str(self.root / "data"), "-U", "postgres", "-A", "trust"]
        self.run(*initdb, "-E", "UTF8", "--locale=C")
        self.start()
        self.run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "feedback")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root / 'sockets'} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg_ctl("-l", str(self.root / "server.log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")

    def log_tail(self) -> str:
        log = self.root / "server.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""


@contextlib.contextmanager
def postgres() -> Iterator[Postgres]:
    """A started throwaway cluster; skips the test when PostgreSQL is not installed."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (make system-deps installs it)")
    as_root = os.geteuid() == 0
    server = Postgres(bin_dir, Path(tempfile.mkdtemp(prefix="test-pg-", dir="/tmp" if as_root else None)))
    if as_root:
        shutil.chown(server.root, user="postgres", group="postgres")
    try:
        try:
            server.init()
        except subprocess.CalledProcessError as error:
            raise RuntimeError(f"could not start PostgreSQL: {error.stderr}\n{server.log_tail()}") from error
        yield server
    finally:
        stop = [*server.as_user, str(server.bin / "pg_ctl"), "-D", str(server.root / "data"), "-m", "immediate", "stop"]
        subprocess.run(stop, capture_output=True, timeout=60, check=False)
        shutil.rmtree(server.root, ignore_errors=True)


# --- Redis ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def redis() -> Iterator[str]:
    """A throwaway `redis-server` (no persistence) on a free loopback port; yields its `redis://` URL.
    Skips the test when redis-server is not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (make system-deps installs it)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="test-redis-") as folder:
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(
            [*command, "--dir", folder], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_until_ready(process, lambda: _answers_ping(port), what=f"redis-server on {port}", timeout=30)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            stop_group(process, grace_s=10)


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


__all__ = ["Gunicorn", "Postgres", "free_port", "gunicorn", "postgres", "postgres_bin_dir", "redis"]
