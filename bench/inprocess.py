"""Model time in this process: each runtime, as the API loads it, on one preprocessed image."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from digits.runtime import load_runtime


@dataclass(frozen=True)
class Timing:
    p50_ms: float
    p99_ms: float
    count: int
    cpu_ms: float = 0.0  # this thread's CPU time per call: what a call costs, however busy the machine


def time_calls(
    call: Callable[[], Any], *, budget_s: float = 2.0, max_calls: int = 2000, min_calls: int = 5, warmup: int = 3
) -> Timing:
    """p50/p99 of `call`, after a short warm-up, over as many calls as fit in `budget_s`."""
    for _ in range(warmup):
        call()
    samples: list[int] = []
    deadline = time.perf_counter_ns() + int(budget_s * 1e9)
    cpu_started = time.thread_time_ns()
    while len(samples) < max_calls and (len(samples) < min_calls or time.perf_counter_ns() < deadline):
        started = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - started)
    cpu_ms = (time.thread_time_ns() - cpu_started) / 1e6 / len(samples)
    values = np.asarray(samples) / 1e6
    return Timing(float(np.percentile(values, 50)), float(np.percentile(values, 99)), len(values), cpu_ms)


def model_time(models_dir: Path, entry: dict[str, Any], image: np.ndarray) -> tuple[str, Timing]:
    """The engine that serves the entry and its time for one image."""
    runtime = load_runtime(models_dir, entry)
    batch = image[None]
    return runtime.engine, time_calls(lambda: runtime.predict(batch))
