"""`make run`'s supervisor: refuses taken ports, keeps one private secret, and leaves no process behind."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from scripts.run import Supervisor, ensure_secret_key, port_problem, static_is_current
from scripts.services import ROOT, Service, service_command, services_from_env
from testsupport.servers import free_port, make_run


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_until(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


# A "service" that forks a worker which ignores SIGTERM, like a stuck gunicorn worker, and records both pids.
SERVICE_WITH_STUBBORN_WORKER = textwrap.dedent(
    """
    import os, signal, subprocess, sys, time
    worker = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
    with open(sys.argv[1], "a") as pids:
        pids.write(f"{os.getpid()} {worker.pid}\\n")
    time.sleep(600)
    """
)

SUPERVISOR = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from scripts.run import Supervisor
    service, pid_file = sys.argv[1], sys.argv[2]
    with Supervisor() as supervisor:
        for name in ("one", "two"):
            supervisor.start(name, [sys.executable, "-c", service, pid_file], cwd=Path.cwd(), env={})
        sys.exit(supervisor.run())
    """
)


def test_a_taken_port_is_refused_before_anything_starts() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "ML_SERVER_PORT": str(port), "USER_SERVER_PORT": str(free_port())}
        result = subprocess.run(
            [sys.executable, "-m", "scripts.run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 2
    assert f"127.0.0.1:{port} is taken" in result.stderr
    assert "ML_SERVER_PORT" in result.stderr


def test_port_problem_is_none_for_a_free_port() -> None:
    assert port_problem("127.0.0.1", free_port()) is None


def test_the_same_port_for_both_services_is_refused() -> None:
    port = str(free_port())
    env = {**os.environ, "ML_SERVER_PORT": port, "USER_SERVER_PORT": port}
    result = subprocess.run(
        [sys.executable, "-m", "scripts.run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "both" in result.stderr


def test_secret_key_is_made_once_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / ".secret_key"
    first = ensure_secret_key(path)
    assert len(first) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_secret_key(path) == first


def test_secret_key_file_with_loose_permissions_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / ".secret_key"
    path.write_text("kept-key\n")
    path.chmod(0o644)
    assert ensure_secret_key(path) == "kept-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_secret_key_file_is_ignored_by_git() -> None:
    result = subprocess.run(["git", "check-ignore", "-q", ".secret_key"], cwd=ROOT, check=False)
    assert result.returncode == 0


def test_production_command_is_gunicorn_with_the_service_config() -> None:
    ml_server, user_server = services_from_env({"ML_SERVER_PORT": "9101", "USER_SERVER_PORT": "9100"})
    command = service_command(ml_server, host="127.0.0.1", dev=False)
    assert command[1:5] == ["-m", "gunicorn", "-c", "gunicorn.conf.py"]
    assert "--no-control-socket" in command  # two gunicorns on one machine must not share one
    assert command[-3:] == ["--bind", "127.0.0.1:9101", "config.wsgi:application"]
    assert service_command(user_server, host="127.0.0.1", dev=True)[-2:] == ["runserver", "127.0.0.1:9100"]


def test_defaults_are_the_contract_ports() -> None:
    ml_server, user_server = services_from_env({})
    assert (ml_server.name, ml_server.port, user_server.name, user_server.port) == (
        "ml_server",
        8001,
        "user_server",
        8000,
    )


def test_sigterm_stops_both_services_and_every_worker_they_forked(tmp_path: Path) -> None:
    pid_file = tmp_path / "pids"
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, SERVICE_WITH_STUBBORN_WORKER, str(pid_file)],
        cwd=ROOT,
        env={**os.environ},
    )
    assert wait_until(lambda: pid_file.exists() and len(pid_file.read_text().split()) == 4)
    pids = [int(pid) for pid in pid_file.read_text().split()]
    assert all(alive(pid) for pid in pids)
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=30) == 0
    assert wait_until(lambda: not any(alive(pid) for pid in pids), timeout=10), "orphan processes left"


def test_when_one_service_dies_the_other_is_stopped_and_its_code_returned() -> None:
    supervisor = Supervisor()
    supervisor.start("dies", [sys.executable, "-c", "import sys; sys.exit(3)"], cwd=ROOT, env={})
    supervisor.start("lives", [sys.executable, "-c", "import time; time.sleep(600)"], cwd=ROOT, env={})
    survivor = supervisor.processes["lives"].pid
    assert supervisor.run() == 3
    assert not alive(survivor)


@pytest.mark.slow
def test_make_run_serves_both_services_behind_the_front_and_sigterm_leaves_no_process(tmp_path: Path) -> None:
    with make_run(tmp_path) as stack:
        text = stack.text()
        assert f"http://127.0.0.1:{stack.ml_port}/" in text and f"http://127.0.0.1:{stack.page_port}/" in text
        for port in (stack.ml_port, stack.page_port):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as response:
                assert response.status == 200
                assert response.headers["Server"] == "nginx"  # the front answers on the public ports
        with urllib.request.urlopen(f"http://127.0.0.1:{stack.page_port}/", timeout=10) as response:
            assert response.status == 200
        descendants = psutil.Process(stack.process.pid).children(recursive=True)
        commands = [" ".join(p.cmdline()) for p in descendants]
        assert sum("gunicorn" in command for command in commands) >= 4  # two masters, two workers
        assert sum("nginx" in command for command in commands) >= 2  # master and worker
        stack.process.send_signal(signal.SIGTERM)
        assert stack.process.wait(timeout=60) == 0
    assert wait_until(lambda: not any(alive(p.pid) for p in descendants), timeout=10), "orphan processes left"


@pytest.mark.slow
def test_when_the_front_dies_make_run_stops_the_services(tmp_path: Path) -> None:
    with make_run(tmp_path) as stack:
        descendants = psutil.Process(stack.process.pid).children(recursive=True)
        (front,) = [p for p in psutil.Process(stack.process.pid).children() if "nginx" in " ".join(p.cmdline())]
        front.kill()
        assert stack.process.wait(timeout=60) != 0
        assert "front exited" in stack.text()
    assert wait_until(lambda: not any(alive(p.pid) for p in descendants), timeout=10), "orphan processes left"


def test_static_files_are_recollected_only_when_a_source_is_newer(tmp_path: Path) -> None:
    service = Service("page", tmp_path, 0, migrates=False)
    source = tmp_path / "canvas" / "static" / "canvas" / "app.js"
    source.parent.mkdir(parents=True)
    source.write_text("old")
    assert not static_is_current(service, {})  # never collected
    manifest = tmp_path / "staticfiles" / "staticfiles.json"
    manifest.parent.mkdir()
    manifest.write_text("{}")
    os.utime(source, (time.time() - 60, time.time() - 60))
    assert static_is_current(service, {})
    source.write_text("new")
    os.utime(manifest, (time.time() - 30, time.time() - 30))
    assert not static_is_current(service, {})
    assert not static_is_current(service, {"STATIC_ROOT": str(tmp_path / "elsewhere")})
