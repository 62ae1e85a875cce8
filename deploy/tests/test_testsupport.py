"""The throwaway servers the tests start (`testsupport.servers`) answer while their block runs and are
gone after it."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

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
