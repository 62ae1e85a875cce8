"""The throwaway servers the tests start (`testsupport.servers`) answer while their block runs and are
gone after it."""

from __future__ import annotations

import itertools
import socket
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from scripts.services import DidNotAnswer, wait_until_ready
from testsupport.servers import free_port, redis


def command(port: int, *words: str) -> bytes:
    """One Redis command in RESP, its raw answer."""
    request = f"*{len(words)}\r\n" + "".join(f"${len(word)}\r\n{word}\r\n" for word in words)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(request.encode())
        return connection.recv(64)


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


@pytest.mark.slow
def test_redis_stores_while_running_and_is_gone_after() -> None:
    with redis() as url:
        port = urlsplit(url).port
        assert port is not None
        assert command(port, "SET", "answer", "42") == b"+OK\r\n"
        assert command(port, "GET", "answer") == b"$2\r\n42\r\n"
    with pytest.raises(OSError):
        command(port, "PING")


def test_waiting_for_a_server_ends_when_it_is_ready_and_fails_when_it_exits_or_stays_silent() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        calls = itertools.count()
        wait_until_ready(sleeper, lambda: next(calls) >= 2, what="the third poll", timeout=30, poll_s=0.01)
        with pytest.raises(DidNotAnswer, match="did not answer within"):
            wait_until_ready(sleeper, lambda: False, what="nothing", timeout=0.05, poll_s=0.01)
    finally:
        sleeper.kill()
        sleeper.wait()
    quitter = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    quitter.wait()
    with pytest.raises(DidNotAnswer, match="exited with code 3"):
        wait_until_ready(quitter, lambda: False, what="nothing", timeout=30)
