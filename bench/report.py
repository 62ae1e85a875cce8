"""The benchmark's report: the figures as Markdown tables, the issue's targets with pass/fail, and the
machine they were measured on."""

from __future__ import annotations

import datetime as dt
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.inprocess import Timing
from bench.load import LoadResult

CONNECTIONS = (1, 8, 32)
MIB = 2**20


@dataclass
class ModelRow:
    name: str
    engine: str = ""
    model_time: Timing | None = None
    first_request_ms: float | None = None
    load: dict[int, LoadResult] = field(default_factory=dict)  # by connections; 1 gives the latency
    note: str = ""


@dataclass
class Side:
    """One server's /predict (cnn, page upload) and /health runs, and its CPU per /predict @8."""

    predict: dict[int, LoadResult] = field(default_factory=dict)
    health: dict[int, LoadResult] = field(default_factory=dict)
    cpu_ms_per_request: float | None = None


@dataclass
class Results:
    command: str
    machine: list[tuple[str, str]]
    workers: int
    default_model: str
    models: list[ModelRow]
    project: Side
    peer: Side
    front: Side  # the project through `make run`'s nginx front
    front_connections_per_client: int
    one_worker_rps8: float | None
    number: LoadResult | None
    number_note: str
    phone_upload: LoadResult | None  # cnn, an 840x840 canvas as the page exports it, one client
    start_to_ready_s: float
    cpu_to_ready_s: float  # CPU time of the master and its workers until /ready
    worker_rss_all: int  # the one worker's resident memory with every model loaded
    models_loaded: int
    tensorflow_loaded: bool  # a worker mapped a TensorFlow library
    worker_restarts: int
    seconds_per_run: float


@dataclass(frozen=True)
class Target:
    figure: str
    target: str
    measured: str
    passed: bool | None  # None: the figure could not be measured

    @property
    def verdict(self) -> str:
        return "missing" if self.passed is None else ("pass" if self.passed else "**FAIL**")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table padded to its widest cells, readable as plain text too."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(headers), line(["-" * width for width in widths]), *(line(row) for row in rows)])


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def pair(timing: Timing | None) -> str:
    return "-" if timing is None else f"{ms(timing.p50_ms)} / {ms(timing.p99_ms)}"


def latency(result: LoadResult | None) -> str:
    return "-" if result is None else f"{ms(result.p50_ms)} / {ms(result.p99_ms)}"


def rate(result: LoadResult | None) -> str:
    return "-" if result is None else f"{result.throughput:.0f}"


def peak(load: dict[int, LoadResult]) -> float:
    return max((result.throughput for result in load.values()), default=0.0)


def ratio(a: LoadResult | None, b: LoadResult | None) -> float | None:
    return a.throughput / b.throughput if a is not None and b is not None and b.throughput else None


def model_table(results: Results) -> str:
    headers = [
        "endpoint / model",
        "engine",
        "model time p50 / p99 ms",
        "end-to-end p50 / p99 ms",
        *(f"req/s @{c}" for c in CONNECTIONS),
        "errors @32",
        "first request ms",
    ]
    rows = []
    for row in results.models:
        rows.append(
            [
                f"/predict {row.name}" + (" (default)" if row.name == results.default_model else ""),
                row.engine,
                pair(row.model_time),
                latency(row.load.get(1)) if row.load else row.note,
                *(rate(row.load.get(c)) for c in CONNECTIONS),
                str(row.load[32].errors) if 32 in row.load else "-",
                ms(row.first_request_ms),
            ]
        )
    health = results.project.health
    rows.append(
        [
            "/health (the floor)",
            "",
            "",
            latency(health.get(1)),
            *(rate(health.get(c)) for c in CONNECTIONS),
            str(health[32].errors) if 32 in health else "-",
            "",
        ]
    )
    rows.append(
        [
            "/predict cnn, phone upload (840x840 canvas)",
            "litert",
            "",
            latency(results.phone_upload),
            rate(results.phone_upload),
            *("", "", "", ""),
        ]
    )
    number = results.number
    rows.append(
        [
            f"/predict/number {results.default_model}, 4 digits ({results.number_note})",
            "",
            "",
            latency(number) if number else "missing",
            rate(number),
            *("", "", "", ""),
        ]
    )
    return table(headers, rows)


def comparison_rows(left: Side, right: Side) -> list[list[str]]:
    """/predict (cnn, page upload) and /health req/s at each concurrency on two servers with their
    ratio left / right, then the CPU per /predict @8 of each."""
    rows = []
    for label, left_runs, right_runs in (
        ("/predict cnn, page upload", left.predict, right.predict),
        ("/health", left.health, right.health),
    ):
        for connections in CONNECTIONS:
            a, b = left_runs.get(connections), right_runs.get(connections)
            shown = ratio(a, b)
            rows.append([f"{label} req/s @{connections}", rate(a), rate(b), "-" if shown is None else f"{shown:.2f}"])
    cpu_a, cpu_b = left.cpu_ms_per_request, right.cpu_ms_per_request
    rows.append(
        [
            "/predict cnn CPU per request @8 (ms, all processes)",
            ms(cpu_a),
            ms(cpu_b),
            f"{cpu_a / cpu_b:.2f}" if cpu_a and cpu_b else "-",
        ]
    )
    return rows


def peer_table(results: Results) -> str:
    """The ml_server against the minimal FastAPI + LiteRT peer, same upload, same worker count."""
    return table(["figure", "project", "peer", "project / peer"], comparison_rows(results.project, results.peer))


def front_table(results: Results) -> str:
    """The project through the nginx front beside the project alone, and against the peer."""
    front, direct = results.front, results.project
    rows = comparison_rows(front, direct)
    rows.append(
        ["/predict cnn, page upload p50 / p99 ms @1", latency(front.predict.get(1)), latency(direct.predict.get(1)), ""]
    )
    errors = [run.errors for run in (front.predict.get(32), front.health.get(32)) if run is not None]
    rows.append(["errors @32 (/predict and /health)", str(sum(errors)) if errors else "-", "", ""])
    peer_ratio = ratio(front.predict.get(8), results.peer.predict.get(8))
    shown = "-" if peer_ratio is None else f"{peer_ratio:.2f}"
    table_text = table(["figure", "through the front", "direct", "front / direct"], rows)
    return f"{table_text}\n\n/predict cnn req/s @8 through the front / the peer (which has no front): **{shown}**."


def targets(results: Results) -> list[Target]:
    """The serving issue's targets (issue 16; numbers, issue 10) against this run."""
    cnn, mcd = _row(results, "cnn"), _row(results, "cnn_mcd")
    found: list[Target] = []

    def add(figure: str, target: str, value: float | None, limit: float, *, at_least: bool = False, unit: str = ""):
        if value is None:
            found.append(Target(figure, target, "not measured", None))
            return
        shown = f"{value:.2f}{unit}" if value < 100 else f"{value:.0f}{unit}"
        found.append(Target(figure, target, shown, value >= limit if at_least else value <= limit))

    add(
        "/predict req/s @8, project / minimal peer, same worker count",
        ">= 1.0",
        ratio(results.project.predict.get(8), results.peer.predict.get(8)),
        1.0,
        at_least=True,
    )
    eight = results.project.predict.get(8)
    scaling = eight.throughput / results.one_worker_rps8 if eight and results.one_worker_rps8 else None
    add(
        f"/predict req/s @8, default config ({results.workers} workers) / one worker",
        ">= 1.7",
        scaling,
        1.7,
        at_least=True,
    )
    add(
        f"resident memory per worker, all {results.models_loaded} models loaded",
        "<= 200 MiB",
        results.worker_rss_all / MIB if results.worker_rss_all else None,
        200,
        unit=" MiB",
    )
    add(
        f"start to /ready (CPU time of master and workers until then: {results.cpu_to_ready_s:.2f} s)",
        "<= 1.5 s",
        results.start_to_ready_s,
        1.5,
        unit=" s",
    )
    add("cnn end-to-end p50, single client, page upload", "<= 2.5 ms", _p50(cnn), 2.5, unit=" ms")
    add("cnn_mcd end-to-end p50", "<= 5 ms", _p50(mcd), 5.0, unit=" ms")
    runs_at_32 = [row.load[32] for row in results.models if 32 in row.load]
    runs_at_32 += [results.project.health[32]] if 32 in results.project.health else []
    errors = sum(run.errors for run in runs_at_32) if runs_at_32 else None
    add("errors at 32 connections (every model and /health)", "0", errors, 0)
    found.append(
        Target(
            "TensorFlow imported by the API",
            "no",
            "yes" if results.tensorflow_loaded else "no",
            not results.tensorflow_loaded,
        )
    )
    number_p50 = results.number.p50_ms if results.number is not None else None
    add("/predict/number p50, 4 digits (issue 10)", "<= 15 ms", number_p50, 15.0, unit=" ms")
    return found


def targets_table(found: list[Target]) -> str:
    return table(
        ["figure", "target", "measured", "verdict"], [[t.figure, t.target, t.measured, t.verdict] for t in found]
    )


def render(results: Results) -> str:
    """The whole report as Markdown (what `make bench` prints and writes to docs/benchmarks.md)."""
    machine = "\n".join(f"- {name}: {value}" for name, value in results.machine)
    return f"""# Serving benchmark

Written by `{results.command}` (`make bench`); do not edit by hand. The ml_server runs as `make run`
starts it (gunicorn with `ml_server/gunicorn.conf.py`, DEBUG off, {results.workers} workers: the
default, one per core) on loopback, driven by wrk (one wrk thread, keep-alive connections,
{results.seconds_per_run:g} s per run, closed loop). The peer is `bench/peer.py`, a minimal FastAPI +
LiteRT server (resize to 28x28, one model call) under gunicorn with as many uvicorn workers. The
page upload is an MNIST test digit drawn on a 280x280 canvas (`digits.synthetic.render_canvas_digit`)
sent as the page exports it (`picture.js`, emulated by `bench.uploads`): shrunk to the server's
working side, 112x112, an opaque RGBA PNG, as `multipart/form-data`; the phone upload is the same
drawing on a canvas of 3x density (840x840), exported alike. The number is 4 MNIST test digits drawn
by `digits.numbers.render_number` on 560x280, sent alike. Model time is
`Runtime.predict` on one preprocessed image in the benchmark's own process.

## Machine

{machine}

## Targets

{targets_table(targets(results))}

## Against the minimal peer

{peer_table(results)}

## Through the nginx front

`make run` always serves the ml_server through its nginx front (`scripts/front.py`, the limits of
`deploy/nginx/front.conf.template`): nginx reads each request whole, with deadlines and per-client
limits, before gunicorn sees it, so slow clients cannot hold gunicorn's threads. A user of `make run`
therefore gets these figures, not the direct ones, which measure gunicorn alone as the peer is
measured. Same server, same upload, right after its direct runs; nginx reaches it over loopback TCP
(`make run`: a unix socket). Every wrk connection comes from 127.0.0.1, where 32 connections stand
for 32 clients, so the front's per-client connection limit (16 by default) is raised to
{results.front_connections_per_client} for these runs. CPU per request adds nginx's processes.

{front_table(results)}

## Per endpoint and model

{model_table(results)}

Latencies are wrk's p50 / p99 with one connection (a single client); req/s at 1, 8 and 32 concurrent
connections; errors are socket errors plus non-2xx answers. "engine" is what serves the model:
`litert` (the model's `.tflite` export) or `sklearn`. "first request" is the first `/predict` naming
the model, which loads it in the worker that answers. CPU per request is the user + system time of
the server's processes over a run divided by its requests. Memory and the one-worker throughput come
from a second server started with `WEB_CONCURRENCY=1`, every model loaded in its one worker;
"TensorFlow imported" is whether any worker maps a TensorFlow library. Worker restarts during the
run: {results.worker_restarts}.
"""


def machine_description(*, extra: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    import psutil

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            cpu,
        )
    return [
        ("date", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", f"{cpu}, {os.cpu_count()} logical cores"),
        ("RAM", f"{psutil.virtual_memory().total / 2**30:.1f} GiB"),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("load average at start (1, 5, 15 min)", load_average()),
        *extra,
    ]


def load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def _row(results: Results, name: str) -> ModelRow | None:
    return next((row for row in results.models if row.name == name), None)


def _p50(row: ModelRow | None) -> float | None:
    return row.load[1].p50_ms if row is not None and 1 in row.load else None


def latency_summary(results: Results) -> dict[str, Any]:
    """Per-model single-client latency for `scripts/model_table.py` (README's model table)."""
    return {
        "models": {
            row.name: {"p50_ms": row.load[1].p50_ms, "p99_ms": row.load[1].p99_ms}
            for row in results.models
            if 1 in row.load
        }
    }
