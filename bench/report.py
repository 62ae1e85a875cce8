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

from bench.inprocess import Baseline, Timing
from bench.load import LoadResult

CONNECTIONS = (1, 8, 32)
MB = 1_000_000


@dataclass
class ModelRow:
    name: str
    engine: str = ""
    model_time: Timing | None = None
    tf_function_time: Timing | None = None
    agreement: str = ""
    first_request_ms: float | None = None
    load: dict[int, LoadResult] = field(default_factory=dict)  # by connections; 1 gives the latency
    note: str = ""


@dataclass
class Results:
    command: str
    machine: list[tuple[str, str]]
    default_model: str
    models: list[ModelRow]
    health: dict[int, LoadResult]
    number: LoadResult | None
    number_note: str
    start_to_ready_s: float
    rss_default: int
    rss_all: int
    models_loaded: int
    worker_restarts: int  # gunicorn replaced its worker (max_requests) during the run
    baselines: list[Baseline]
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


def model_table(results: Results) -> str:
    headers = [
        "endpoint / model",
        "engine",
        "model time p50 / p99 ms",
        "TF function p50 / p99 ms",
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
                pair(row.tf_function_time),
                latency(row.load.get(1)),
                *(rate(row.load.get(c)) for c in CONNECTIONS),
                str(row.load[32].errors) if 32 in row.load else "-",
                ms(row.first_request_ms),
            ]
        )
    rows.append(
        [
            "/health (the floor)",
            "",
            "",
            "",
            latency(results.health.get(1)),
            *(rate(results.health.get(c)) for c in CONNECTIONS),
            str(results.health[32].errors) if 32 in results.health else "-",
            "",
        ]
    )
    number = results.number
    rows.append(
        [
            f"/predict/number {results.default_model}, 4 digits ({results.number_note})",
            "",
            "",
            "",
            latency(number) if number else "missing",
            rate(number),
            "",
            "",
            "",
            "",
        ]
    )
    return table(headers, rows)


def server_table(results: Results) -> str:
    rows = [
        ["start to /ready (process start, default model loaded)", f"{results.start_to_ready_s:.1f} s"],
        [f"resident memory, default model ({results.default_model}) loaded", f"{results.rss_default / MB:.0f} MB"],
        [f"resident memory, all {results.models_loaded} models loaded", f"{results.rss_all / MB:.0f} MB"],
        [
            "worker restarts during the run (gunicorn max_requests; each reloads the models)",
            str(results.worker_restarts),
        ],
    ]
    cnn = _row(results, results.default_model)
    if cnn is not None and cnn.load and results.health:
        for connections in CONNECTIONS:
            if connections in cnn.load and connections in results.health:
                ratio = cnn.load[connections].throughput / results.health[connections].throughput
                rows.append([f"/predict {cnn.name} / /health throughput @{connections}", f"{ratio:.2f}"])
    for baseline in results.baselines:
        rows.append(
            [
                f"baseline {baseline.name}: p50 naive vs fast",
                f"{ms(baseline.naive.p50_ms)} ms vs {ms(baseline.fast.p50_ms)} ms = {baseline.ratio:.0f}x",
            ]
        )
    return table(["figure", "measured"], rows)


def targets(results: Results) -> list[Target]:
    """The issues' targets (serving speed, issue 7; numbers, issue 10) against this run."""
    cnn, mcd = _row(results, "cnn"), _row(results, "cnn_mcd")
    found: list[Target] = []

    def add(figure: str, target: str, value: float | None, limit: float, *, at_least: bool = False, unit: str = ""):
        if value is None:
            found.append(Target(figure, target, "not measured", None))
            return
        shown = f"{value:.2f}{unit}" if value < 100 else f"{value:.0f}{unit}"
        found.append(Target(figure, target, shown, value >= limit if at_least else value <= limit))

    ratio = None
    if cnn is not None and cnn.load and results.health:
        ratio = peak(cnn.load) / peak(results.health)
    add("/predict throughput (cnn, PNG upload) / /health throughput, peaks", ">= 0.5", ratio, 0.5, at_least=True)
    add("cnn end-to-end p50, single client", "<= 5 ms", _p50(cnn), 5.0, unit=" ms")
    model_p50 = cnn.model_time.p50_ms if cnn is not None and cnn.model_time is not None else None
    add("cnn in-process model time p50", "<= 1 ms", model_p50, 1.0, unit=" ms")
    add("cnn_mcd end-to-end p50 (all its passes)", "<= 25 ms", _p50(mcd), 25.0, unit=" ms")
    add("start to /ready", "<= 10 s", results.start_to_ready_s, 10.0, unit=" s")
    memory = f"resident memory, all {results.models_loaded} models loaded"
    add(memory, "<= 1.5 GB", results.rss_all / 1e9, 1.5, unit=" GB")
    runs_at_32 = [row.load[32] for row in results.models if 32 in row.load]
    runs_at_32 += [results.health[32]] if 32 in results.health else []
    errors = sum(run.errors for run in runs_at_32) if runs_at_32 else None
    add("errors at 32 connections (every model and /health)", "0", errors, 0)
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
starts it (gunicorn with `ml_server/gunicorn.conf.py`, DEBUG off) on loopback, driven by wrk
(one wrk thread, keep-alive connections, {results.seconds_per_run:g} s per run, closed loop). The
upload is an MNIST test digit drawn on a 280x280 canvas (`digits.synthetic.render_canvas_digit`) and
encoded as the page's canvas sends it, an opaque RGBA PNG (`bench.uploads`), as `multipart/form-data`;
the number is 4 MNIST test digits drawn by `digits.numbers.render_number` on 560x280, sent alike.
Model time is `Runtime.predict` on one preprocessed image in the benchmark's own process.

## Machine

{machine}

## Targets

{targets_table(targets(results))}

## Per endpoint and model

{model_table(results)}

Latencies are wrk's p50 / p99 with one connection (a single client); req/s at 1, 8 and 32 concurrent
connections; errors are socket errors plus non-2xx answers. "engine" is what serves the model:
`tflite` (TensorFlow Lite converted from the `.h5` at load time), `tf` (one compiled TensorFlow
function) or `sklearn`. "TF function" is the same model through the compiled TensorFlow function,
for comparison. "first request" is the first `/predict` naming the model, which loads it. gunicorn
replaces its one worker after `max_requests` (ml_server/gunicorn.conf.py); a restart during a run
(counted below) shows as a first request or p99 of several seconds while the new worker loads.

## Server, floor and baselines

{server_table(results)}

## Fast engine against Keras (MNIST test set)

{table(["model", "agreement"], [[row.name, row.agreement] for row in results.models if row.agreement])}
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
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return [
        ("date", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", f"{cpu}, {os.cpu_count()} logical cores"),
        ("RAM", f"{psutil.virtual_memory().total / 2**30:.1f} GiB"),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("load average at start (1, 5, 15 min)", load),
        *extra,
    ]


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
