"""Load the real ml_server (gunicorn, the committed models) with valid and invalid requests mixed.

    .venv/bin/python -m bench.mixed_load --requests 20000 --concurrency 32

Each client thread keeps one HTTP/1.1 connection open (`http.client`). Valid requests are MNIST test
digits drawn on a canvas (multipart PNG upload or JSON data URL) and raw MNIST pixels; the invalid ones
are malformed JSON, truncated and blank PNGs, bad pixels, an unknown model and a wrong media type.
Before the run, every valid input is sent once, alone: inputs the model misreads even then are dropped
(reported), so under load "right" means the true label. Passes when no answer is a 5xx, every valid
request gets its true digit, every invalid one its 4xx, and the worker's resident memory after the
run is within 10% of what it was after a warm-up. Throttling is lifted and worker recycling is off
for the run, so the figures are about load and a leak cannot hide behind a restart."""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

MEMORY_TOLERANCE = 0.10
BOUNDARY = "loadtestboundary7d1f"


@dataclass(frozen=True)
class Probe:
    """One request to send and what must come back: a digit for valid ones, else a 4xx status."""

    name: str
    body: bytes
    content_type: str
    digit: int | None = None
    status: int = 200


def multipart(png: bytes) -> tuple[bytes, str]:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="d.png"\r\n'
    body = (head + "Content-Type: image/png\r\n\r\n").encode() + png + f"\r\n--{BOUNDARY}--\r\n".encode()
    return body, f"multipart/form-data; boundary={BOUNDARY}"


def blank_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (280, 280), 255).save(buffer, format="PNG")
    return buffer.getvalue()


def valid_probes(count: int, seed: int = 0) -> list[Probe]:
    """Canvas drawings of MNIST test digits (upload and data URL) and raw MNIST pixels, with labels."""
    from digits.data import load_mnist
    from digits.synthetic import canvas_digit_set

    mnist = load_mnist()
    pngs, labels = canvas_digit_set(mnist.x_test, mnist.y_test, count=count, seed=seed)
    probes = []
    for index, (png, label) in enumerate(zip(pngs, labels, strict=True)):
        if index % 2:
            data_url = "data:image/png;base64," + base64.b64encode(png).decode()
            probes.append(Probe("data_url", json.dumps({"image": data_url}).encode(), "application/json", int(label)))
        else:
            body, content_type = multipart(png)
            probes.append(Probe("upload", body, content_type, int(label)))
    for image, label in zip(mnist.x_test[-count // 2 :], mnist.y_test[-count // 2 :], strict=True):
        probes.append(Probe("pixels", json.dumps({"pixels": image.tolist()}).encode(), "application/json", int(label)))
    return probes


def invalid_probes(png: bytes) -> list[Probe]:
    as_json = "application/json"
    truncated, truncated_type = multipart(png[: len(png) // 2])
    blank, blank_type = multipart(blank_png())
    return [
        Probe("malformed_json", b'{"pixels": [0.1, ', as_json, status=400),
        Probe("truncated_png", truncated, truncated_type, status=400),
        Probe("blank_canvas", blank, blank_type, status=400),
        Probe("bad_pixels", json.dumps({"pixels": [[0.5] * 27] * 28}).encode(), as_json, status=400),
        Probe("nan_pixels", b'{"pixels": [NaN]}', as_json, status=400),
        Probe("unknown_model", json.dumps({"pixels": [0.5] * 784, "model": "nope"}).encode(), as_json, status=404),
        Probe("wrong_media_type", b"<digit/>", "application/xml", status=415),
        Probe("not_an_object", b"[1, 2, 3]", as_json, status=400),
    ]


@dataclass
class Tally:
    """What came back, counted under one lock by every client thread."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def record(self, probe: Probe, status: int, body: dict | None) -> None:
        problem = None
        if probe.digit is not None and (status != 200 or not body or body.get("digit") != probe.digit):
            problem = f"{probe.name}: expected {probe.digit}, got {status} {str(body)[:200]}"
        elif probe.digit is None and (status != probe.status or "error" not in (body or {})):
            problem = f"{probe.name}: expected {probe.status}, got {status} {str(body)[:200]}"
        with self.lock:
            self.statuses[status] += 1
            if problem:
                self.wrong.append(problem)


def send(connection: http.client.HTTPConnection, probe: Probe) -> tuple[int, dict | None]:
    connection.request("POST", "/predict", body=probe.body, headers={"Content-Type": probe.content_type})
    response = connection.getresponse()
    raw = response.read()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, None


def hammer(port: int, probes: list[Probe], total: int, concurrency: int, seed: int) -> tuple[Tally, float]:
    """Send `total` requests drawn at random from `probes` over `concurrency` keep-alive connections."""
    order = np.random.default_rng(seed).integers(0, len(probes), size=total)
    tally, next_index, index_lock = Tally(), [0], threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while True:
                with index_lock:
                    position = next_index[0]
                    next_index[0] += 1
                if position >= total:
                    return
                probe = probes[order[position]]
                try:
                    tally.record(probe, *send(connection, probe))
                except (OSError, http.client.HTTPException) as error:
                    connection.close()  # reconnect on the next request
                    with tally.lock:
                        tally.failures.append(f"{probe.name}: {type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=3600)
    return tally, time.perf_counter() - started


def worker_rss(master_pid: int) -> int:
    """Resident memory of the gunicorn worker(s) serving the requests, in bytes."""
    return sum(child.memory_info().rss for child in psutil.Process(master_pid).children())


@dataclass
class LoadReport:
    requests: int
    concurrency: int
    seconds: float
    statuses: dict[int, int]
    wrong: list[str]
    failures: list[str]
    dropped_valid: int
    valid_pool: int
    rss_before: int
    rss_after: int

    @property
    def rss_change(self) -> float:
        return self.rss_after / self.rss_before - 1

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    @property
    def passed(self) -> bool:
        return not (self.server_errors or self.wrong or self.failures) and abs(self.rss_change) <= MEMORY_TOLERANCE

    def summary(self) -> str:
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items()))
        return (
            f"{self.requests} requests at {self.concurrency} connections in {self.seconds:.1f} s "
            f"({self.requests / self.seconds:.0f} req/s); statuses {{{statuses}}}; 5xx: {self.server_errors}; "
            f"wrong answers: {len(self.wrong)}; connection failures: {len(self.failures)}; valid pool "
            f"{self.valid_pool} (dropped {self.dropped_valid} misread when alone); worker RSS "
            f"{self.rss_before / 2**20:.1f} MiB after warm-up -> {self.rss_after / 2**20:.1f} MiB after "
            f"({self.rss_change:+.1%}); {'PASS' if self.passed else 'FAIL'}"
        )


def run_load(
    port: int, master_pid: int, *, requests: int, concurrency: int, pool: int = 200, warmup: int = 1000, seed: int = 0
) -> LoadReport:
    """Filter the valid pool one by one, warm up, measure RSS, run the load, measure RSS again."""
    valid = valid_probes(pool, seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    kept = []
    for probe in valid:
        status, body = send(connection, probe)
        if status != 200:
            raise RuntimeError(f"a valid {probe.name} request sent alone got {status}: {str(body)[:300]}")
        if body["digit"] == probe.digit:
            kept.append(probe)
    connection.close()
    probes = kept + invalid_probes(blank_png()) * max(1, len(kept) // 20)  # about 30% invalid
    hammer(port, probes, warmup, concurrency, seed + 1)
    rss_before = worker_rss(master_pid)
    tally, seconds = hammer(port, probes, requests, concurrency, seed + 2)
    rss_after = worker_rss(master_pid)
    return LoadReport(
        requests=requests,
        concurrency=concurrency,
        seconds=seconds,
        statuses=dict(tally.statuses),
        wrong=tally.wrong,
        failures=tally.failures,
        dropped_valid=len(valid) - len(kept),
        valid_pool=len(valid),
        rss_before=rss_before,
        rss_after=rss_after,
    )


LOAD_ENV = {"PREDICT_THROTTLE_RATE": "100000000/min", "GUNICORN_MAX_REQUESTS": "0"}


def main(argv: list[str] | None = None, log: Callable[[str], None] = print) -> int:
    from bench.server import ml_server
    from digits.config import MODELS_DIR

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as folder,
        ml_server(models_dir=args.models_dir, workdir=Path(folder), extra_env=LOAD_ENV) as server,
    ):
        report = run_load(server.port, server.process.pid, requests=args.requests, concurrency=args.concurrency)
    log(report.summary())
    for problem in (report.wrong + report.failures)[:20]:
        log(f"  {problem}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
