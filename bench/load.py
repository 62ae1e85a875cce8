"""wrk, the load generator: a Lua script per request shape, and its figures read back as JSON.

wrk (C, epoll) keeps the Python client out of the figures. Each run is closed-loop: `connections`
clients each send their next request as soon as the previous answer arrives, for `seconds`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MARKER = "BENCH_JSON "
TIMEOUT_S = 10  # a request slower than this counts as a socket error (timeout)

# `done` runs once after the run with wrk's totals; latencies are in microseconds.
DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d,'
    .. ' "timeout": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f}\\n',
    "MARKER", summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
""".replace("MARKER", MARKER)


@dataclass(frozen=True)
class Request:
    """One request shape: method, path and, for POST, a body file and its content type."""

    path: str
    method: str = "GET"
    body: Path | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class LoadResult:
    connections: int
    requests: int
    seconds: float
    socket_errors: int  # connect, read, write, timeout
    status_errors: int  # answers outside 2xx/3xx
    p50_ms: float
    p99_ms: float

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.socket_errors + self.status_errors


def multipart_body(fields: dict[str, str], files: dict[str, tuple[str, str, bytes]], boundary: str) -> bytes:
    """A multipart/form-data body: plain fields, and files as (filename, content type, bytes)."""
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content_type, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def lua_script(request: Request) -> str:
    """The wrk script for a request: the body is read from its file when each wrk thread starts."""
    lines = [f'wrk.method = "{request.method}"']
    if request.body is not None:
        lines += [
            f'local file = assert(io.open("{request.body}", "rb"))',
            'wrk.body = file:read("*a")',
            "file:close()",
            f'wrk.headers["Content-Type"] = "{request.content_type}"',
        ]
    return "\n".join(lines) + "\n" + DONE


def parse_wrk_output(text: str, connections: int) -> LoadResult:
    """The figures printed by the script's `done` (the rest of wrk's output is for people)."""
    line = next((line for line in text.splitlines() if line.startswith(MARKER)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{text}")
    data = json.loads(line[len(MARKER) :])
    return LoadResult(
        connections=connections,
        requests=int(data["requests"]),
        seconds=data["duration_us"] / 1e6,
        socket_errors=int(data["connect"] + data["read"] + data["write"] + data["timeout"]),
        status_errors=int(data["status"]),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (Debian package), then run again.")
    return path


def run_wrk(base_url: str, request: Request, *, connections: int, seconds: float, workdir: Path) -> LoadResult:
    """Drive `request` with `connections` keep-alive connections from one wrk thread for `seconds`."""
    script = workdir / f"wrk-{abs(hash(request))}.lua"
    script.write_text(lua_script(request))
    command = [
        wrk_path(),
        *("--threads", "1", "--connections", str(connections), "--duration", f"{seconds:g}s"),
        *("--timeout", f"{TIMEOUT_S}s", "--script", str(script)),
        base_url.rstrip("/") + request.path,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=seconds + TIMEOUT_S + 30)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk_output(done.stdout, connections)
