"""Clients for the slow-client tests and `bench.slow_clients`, all on loopback: well-behaved requests
timed one by one, and attackers that hold connections open with half a request. Every loop is bounded
in time and count.

Each kind of client sends from its own loopback address (127.0.0.0/8 is all loopback on Linux), so the
front's per-address limits see them as different clients, as they would be on a network."""

from __future__ import annotations

import contextlib
import http.client
import json
import multiprocessing
import selectors
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

PIXELS = [0.0] * 400 + [1.0] * 28 + [0.0] * 356  # a horizontal bar: any digit will do
TRICKLE_EVERY_S = 2.0
MAX_GENERATIONS = 20  # each attacking connection is reopened at most this often, whatever the timing
CONNECT_TIMEOUT_S = 5.0


def request(
    port: int,
    method: str,
    path: str,
    *,
    source: str = "127.0.0.1",
    body: bytes | Iterable[bytes] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection from `source`: status, headers (lower-case names), body.
    A body given as pieces (an iterable) is sent chunked (Transfer-Encoding: chunked)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {name.lower(): value for name, value in response.getheaders()}, response.read()
    finally:
        connection.close()


def error_code(body: bytes) -> str:
    return json.loads(body)["error"]["code"]


@dataclass
class Latencies:
    """Statuses and latencies of a well-behaved client's requests."""

    seconds: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def p99(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def timed_requests(port: int, paths: list[tuple[str, str]], *, duration_s: float, every_s: float) -> Latencies:
    """Requests in turn from `paths` ((method, path); POSTs carry a prediction), one every `every_s`
    (under the API's per-client throttle), for `duration_s`."""
    result = Latencies()
    body = json.dumps({"pixels": PIXELS}).encode()
    deadline = time.monotonic() + duration_s
    for count in range(int(duration_s / every_s) + 1):
        started = time.monotonic()
        if started > deadline:
            break
        method, path = paths[count % len(paths)]
        payload = body if method == "POST" else None
        headers = {"Content-Type": "application/json"} if payload else {}
        try:
            status = request(port, method, path, body=payload, headers=headers)[0]
        except OSError:
            status = 0
        result.seconds.append(time.monotonic() - started)
        result.statuses.append(status)
        time.sleep(max(0.0, every_s - (time.monotonic() - started)))
    return result


class SlowLoris(multiprocessing.Process):
    """Holds `half_open` connections that sent a request line and one header and then wait, and
    `trickling` ones that add one header line every TRICKLE_EVERY_S. A connection the server closes is
    reopened at once, so the pressure lasts. A process of its own, so the measuring client in the test's
    process never waits for it. `result()`: how long each connection lived before the server cut it,
    anything the server sent, and how many connections it refused."""

    def __init__(self, port: int, path: str, *, source: str, half_open: int, trickling: int, duration_s: float):
        super().__init__(daemon=True)
        self.port, self.path, self.source = port, path, source
        self.half_open, self.trickling, self.duration_s = half_open, trickling, duration_s
        self.holding = multiprocessing.Event()  # set once every connection is open
        self.stopping = multiprocessing.Event()
        self.results: multiprocessing.Queue = multiprocessing.Queue()

    def run(self) -> None:
        selector = selectors.DefaultSelector()
        outcome: dict = {"cut_after_s": {"half_open": [], "trickling": []}, "answers": [], "refused": 0}
        opens_left = MAX_GENERATIONS * (self.half_open + self.trickling)

        def open_one(kind: str) -> None:
            nonlocal opens_left
            if opens_left <= 0:
                return
            opens_left -= 1
            try:
                sock = socket.create_connection(
                    ("127.0.0.1", self.port), timeout=CONNECT_TIMEOUT_S, source_address=(self.source, 0)
                )
                sock.sendall(f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n".encode())
            except OSError:
                outcome["refused"] += 1
                return
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, (kind, time.monotonic(), sock))

        for kind, count in (("half_open", self.half_open), ("trickling", self.trickling)):
            for _ in range(count):
                open_one(kind)
        self.holding.set()
        deadline = time.monotonic() + self.duration_s
        next_line, lines = time.monotonic() + TRICKLE_EVERY_S, 0
        while not self.stopping.is_set() and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.1):  # the server answered or closed: note it, reopen
                kind, opened, sock = key.data
                try:
                    data = sock.recv(4096)
                except OSError:
                    data = b""
                if data:
                    outcome["answers"].append(data[:200])
                outcome["cut_after_s"][kind].append(time.monotonic() - opened)
                selector.unregister(sock)
                sock.close()
                open_one(kind)
            if time.monotonic() >= next_line:
                lines, next_line = lines + 1, next_line + TRICKLE_EVERY_S
                for key in list(selector.get_map().values()):
                    kind, _, sock = key.data
                    if kind == "trickling":
                        with contextlib.suppress(OSError):  # a cut connection is seen by the next select
                            sock.send(f"X-Trickle-{lines}: {'a' * 8}\r\n".encode())
        for key in list(selector.get_map().values()):
            selector.unregister(key.fileobj)
            key.data[2].close()
        self.results.put(outcome)

    def result(self) -> dict:
        """Stop attacking and return the outcome."""
        self.stopping.set()
        outcome = self.results.get(timeout=60)
        self.join(timeout=30)
        return outcome


class SlowUploads(multiprocessing.Process):
    """`count` POSTs that each announce `length` bytes and send them at `rate` bytes a second for
    `send_s` (or until the whole body is sent), then stop sending and wait; it ends once the server
    closed every one, or `wait_s` after sending stopped. A process of its own, like SlowLoris.
    `result()`: per upload, the bytes sent, what the server answered (b"" for nothing) and how long
    after the headers were sent it closed the connection (None: it did not)."""

    CHUNK = 1024

    def __init__(self, port: int, *, source: str, count: int, length: int, rate: int, send_s: float, wait_s: float):
        super().__init__(daemon=True)
        self.port, self.source, self.count, self.length, self.rate = port, source, count, length, rate
        self.send_s, self.wait_s = send_s, wait_s
        self.sending = multiprocessing.Event()  # set once every upload has sent its header
        self.results: multiprocessing.Queue = multiprocessing.Queue()

    def run(self) -> None:
        head = (
            f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {self.length}\r\n\r\n"
        ).encode()
        sockets = []
        for _ in range(self.count):
            sock = socket.create_connection(
                ("127.0.0.1", self.port), timeout=CONNECT_TIMEOUT_S, source_address=(self.source, 0)
            )
            sock.sendall(head)
            sockets.append(sock)
        self.sending.set()
        started = time.monotonic()
        outcome: list[dict[str, Any]] = [{"sent": 0, "answer": b"", "closed_after_s": None} for _ in sockets]
        selector = selectors.DefaultSelector()
        for index, sock in enumerate(sockets):
            selector.register(sock, selectors.EVENT_READ, index)

        def closed(index: int) -> None:
            # b"": closed without an answer; a reset is the server closing with the body unread
            with contextlib.suppress(OSError):
                sockets[index].setblocking(False)
                outcome[index]["answer"] = sockets[index].recv(4096)
            outcome[index]["closed_after_s"] = time.monotonic() - started
            selector.unregister(sockets[index])

        chunks = min(self.length // self.CHUNK, int(self.send_s * self.rate / self.CHUNK))
        for chunk in range(chunks):
            if not selector.get_map():
                break
            for key in list(selector.get_map().values()):
                try:
                    sockets[key.data].sendall(b" " * self.CHUNK)
                    outcome[key.data]["sent"] += self.CHUNK
                except OSError:
                    closed(key.data)
            next_chunk = started + (chunk + 1) * self.CHUNK / self.rate
            while selector.get_map() and (wait := next_chunk - time.monotonic()) > 0:
                for key, _ in selector.select(timeout=wait):
                    closed(key.data)
        stalled = time.monotonic()
        while selector.get_map() and time.monotonic() - stalled < self.wait_s:
            for key, _ in selector.select(timeout=0.1):
                closed(key.data)
        for sock in sockets:
            sock.close()
        self.results.put(outcome)

    def result(self) -> list[dict]:
        outcome = self.results.get(timeout=self.send_s + self.wait_s + 60)
        self.join(timeout=30)
        return outcome
