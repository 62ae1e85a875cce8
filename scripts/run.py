"""`make run` and `make dev`: prepare both services and run them in the foreground as one unit.

Each service runs in its own process group, so one signal reaches it together with every worker it
forked; the supervisor forwards Ctrl-C / SIGTERM and stops the other service when one dies, so no
process outlives it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from scripts.services import (
    ROOT,
    Service,
    answers_http,
    manage,
    service_command,
    services_from_env,
    signal_group,
)

SECRET_KEY_FILE = ROOT / ".secret_key"
STOP_TIMEOUT_S = 40.0  # above gunicorn's default 30 s graceful timeout, so in-flight requests finish
POLL_S = 0.2
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def port_problem(host: str, port: int) -> str | None:
    """Why `host:port` cannot be served, or None when it is free (checked before anything starts)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as error:
        return f"{host}: not an address of this machine ({error})"
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does: TIME_WAIT is no owner
        try:
            probe.bind(address)
        except OSError as error:
            return f"{host}:{port} is taken ({error.strerror})"
    return None


def ensure_secret_key(path: Path = SECRET_KEY_FILE) -> str:
    """The local SECRET_KEY: made once, kept in a git-ignored file only its owner can read."""
    if path.exists() and (key := path.read_text().strip()):
        path.chmod(0o600)
        return key
    key = secrets.token_urlsafe(50)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    path.chmod(0o600)
    return key


def service_env(env: Mapping[str, str], *, host: str, services: Sequence[Service], dev: bool) -> dict[str, str]:
    """The environment both services share: ports, host, DEBUG and secret."""
    result = dict(env)
    result.update(
        HOST=host,
        ML_SERVER_PORT=str(services[0].port),
        USER_SERVER_PORT=str(services[1].port),
        DEBUG="1" if dev else "0",
        PYTHONUNBUFFERED="1",
    )
    if not dev and not result.get("SECRET_KEY"):
        result["SECRET_KEY"] = ensure_secret_key()
    return result


def prepare(services: Sequence[Service], env: Mapping[str, str], *, dev: bool) -> None:
    """Migrations, and static files for whitenoise (runserver serves them itself): both idempotent and quick."""
    for service in services:
        if service.migrates:
            manage(service, env, "migrate", "--noinput", "--verbosity", "0")
        if not dev and not static_is_current(service, env):
            manage(service, env, "collectstatic", "--noinput", "--verbosity", "0")


def static_is_current(service: Service, env: Mapping[str, str]) -> bool:
    """True when collected static files are newer than every source of them (the service's static
    folders and the installed packages): skipping collectstatic then keeps a second run quick."""
    if env.get("STATIC_ROOT"):
        return False  # collected elsewhere: let collectstatic decide
    manifest = service.folder / "staticfiles" / "staticfiles.json"
    if not manifest.is_file():
        return False
    collected = manifest.stat().st_mtime
    sources = [Path(sys.prefix) / ".installed", *service.folder.glob("*/static/**/*")]
    return all(not source.exists() or source.stat().st_mtime <= collected for source in sources)


class Supervisor:
    """Runs commands as process groups until a stop signal arrives or one of them exits."""

    def __init__(self) -> None:
        self.stop_signal: int | None = None
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.stopped = False

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stop_signal = signum

    def start(self, name: str, command: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> None:
        self.processes[name] = subprocess.Popen(
            command, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, start_new_session=True
        )

    def run(self, on_tick: Callable[[], None] | None = None) -> int:
        """Wait for a stop signal or a child's exit, then stop every group. Exit code for the caller."""
        exited = None
        while self.stop_signal is None and exited is None:
            exited = next((name for name, p in self.processes.items() if p.poll() is not None), None)
            if on_tick is not None and exited is None:
                on_tick()
            time.sleep(POLL_S)
        self.stop()
        if exited is not None:
            code = self.processes[exited].returncode
            print(f"{exited} exited (code {code}); stopped the others.", file=sys.stderr, flush=True)
            return code if code and code > 0 else 1
        return 0

    def stop(self) -> None:
        """SIGTERM each group, wait, then SIGKILL whatever is left of it (workers included)."""
        if self.stopped:
            return
        self.stopped = True
        for process in self.processes.values():
            signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
        for process in self.processes.values():
            signal_group(process.pid, signal.SIGKILL)
            process.wait()

    def __enter__(self) -> Supervisor:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class ReadyAnnouncer:
    """Prints the addresses once both services answer, so they are the last lines on screen."""

    def __init__(self, services: Sequence[Service], host: str) -> None:
        self.services = services
        self.host = host
        self.waiting = {service.name for service in services}

    def __call__(self) -> None:
        if not self.waiting:
            return
        self.waiting -= {s.name for s in self.services if s.name in self.waiting and answers_http(self.health(s))}
        if not self.waiting:
            ml_server, user_server = self.services
            print(f"\nml_server   {ml_server.url(self.host)}  (API docs: {ml_server.url(self.host)}docs)", flush=True)
            print(f"user_server {user_server.url(self.host)}  <- open this to draw a digit", flush=True)
            print("Ctrl-C stops both.", flush=True)

    def health(self, service: Service) -> str:
        return f"{service.url(self.host)}health"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", action="store_true", help="Django runserver with DEBUG on and auto-reload")
    args = parser.parse_args(argv)
    host = os.environ.get("HOST", "127.0.0.1")
    services = services_from_env(os.environ)
    problems = [problem for s in services if (problem := port_problem(host, s.port))]
    if services[0].port == services[1].port:
        problems.append(f"ML_SERVER_PORT and USER_SERVER_PORT are both {services[0].port}")
    if problems:
        for problem in problems:
            print(f"make run: {problem}.", file=sys.stderr)
        print(
            "Stop what uses the port, or choose others: ML_SERVER_PORT=... USER_SERVER_PORT=... make run",
            file=sys.stderr,
        )
        return 2
    env = service_env(os.environ, host=host, services=services, dev=args.dev)
    prepare(services, env, dev=args.dev)
    with Supervisor() as supervisor:
        for service in services:
            supervisor.start(
                service.name, service_command(service, host=host, dev=args.dev), cwd=service.folder, env=env
            )
        return supervisor.run(on_tick=ReadyAnnouncer(services, host))


if __name__ == "__main__":
    sys.exit(main())
