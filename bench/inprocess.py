"""Model time in this process: each runtime on one preprocessed image, the TensorFlow-function
engine beside TensorFlow Lite, the naive baselines, and whether the fast engine agrees with Keras."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from digits.runtime import KerasRuntime, Runtime, load_runtime

NAIVE_MC_PASSES = 100  # the original project's Monte-Carlo loop


@dataclass(frozen=True)
class Timing:
    p50_ms: float
    p99_ms: float
    count: int


def time_calls(
    call: Callable[[], Any], *, budget_s: float = 2.0, max_calls: int = 2000, min_calls: int = 5, warmup: int = 3
) -> Timing:
    """p50/p99 of `call`, after a short warm-up, over as many calls as fit in `budget_s`."""
    for _ in range(warmup):
        call()
    samples: list[int] = []
    deadline = time.perf_counter_ns() + int(budget_s * 1e9)
    while len(samples) < max_calls and (len(samples) < min_calls or time.perf_counter_ns() < deadline):
        started = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - started)
    values = np.asarray(samples) / 1e6
    return Timing(float(np.percentile(values, 50)), float(np.percentile(values, 99)), len(values))


@dataclass(frozen=True)
class ModelFigures:
    name: str
    engine: str  # what serves: tflite, tf (TensorFlow function) or sklearn
    model_time: Timing
    tf_function_time: Timing | None  # Keras models: the compiled TensorFlow function, for the ratio
    agreement: str  # the fast engine against plain Keras on MNIST test digits
    runtime: KerasRuntime | None  # for the baselines, which need the Keras model


def measure_model(models_dir: Path, entry: dict[str, Any], image: np.ndarray, test: np.ndarray) -> ModelFigures:
    runtime = load_runtime(models_dir, entry)
    batch = image[None]
    model_time = time_calls(lambda: runtime.predict(batch))
    if not isinstance(runtime, KerasRuntime):
        return ModelFigures(runtime.name, "sklearn", model_time, None, "", None)
    plain = KerasRuntime(runtime.name, runtime.model, engine="tf")
    tf_time = time_calls(lambda: plain.predict(batch))
    return ModelFigures(runtime.name, runtime.engine, model_time, tf_time, agreement(runtime, test), runtime)


def agreement(runtime: KerasRuntime, test: np.ndarray) -> str:
    """Deterministic models: argmax agreement and largest probability difference against Keras's own
    `model.predict` on the test digits. Monte-Carlo models: argmax agreement of the sampled means with
    the TensorFlow-function engine's (both are random, so not every uncertain digit agrees)."""
    fast = predict_in_batches(runtime, test)
    if runtime.uncertainty:
        reference = predict_in_batches(KerasRuntime(runtime.name, runtime.model, engine="tf"), test)
        return f"{(fast.argmax(1) == reference.argmax(1)).mean():.2%} of {len(test)} vs TF engine (MC)"
    reference = runtime.model.predict(test, batch_size=500, verbose=0)
    same = (fast.argmax(1) == reference.argmax(1)).mean()
    return f"{same:.2%} of {len(test)}, max |dp| {np.abs(fast - reference).max():.1e}"


def predict_in_batches(runtime: Runtime, images: np.ndarray, size: int = 500) -> np.ndarray:
    return np.concatenate([runtime.predict(images[i : i + size]).probabilities for i in range(0, len(images), size)])


@dataclass(frozen=True)
class Baseline:
    name: str
    naive: Timing
    fast: Timing

    @property
    def ratio(self) -> float:
        return self.naive.p50_ms / self.fast.p50_ms


def naive_predict(runtime: KerasRuntime, image: np.ndarray) -> Baseline:
    """Keras `model.predict` on one image per request, as the original project served."""
    batch = image[None]
    naive = time_calls(lambda: runtime.model.predict(batch, verbose=0), budget_s=3.0, max_calls=60)
    fast = time_calls(lambda: runtime.predict(batch))
    return Baseline(f"{runtime.name}: Keras model.predict per request", naive, fast)


def naive_monte_carlo(runtime: KerasRuntime, image: np.ndarray) -> Baseline:
    """Monte-Carlo dropout as a Python loop of 100 stochastic passes, against one batched call."""
    batch = image[None]

    def loop() -> np.ndarray:
        return np.mean([runtime.model(batch, training=False).numpy() for _ in range(NAIVE_MC_PASSES)], axis=0)

    naive = time_calls(loop, budget_s=4.0, max_calls=20, min_calls=3, warmup=1)
    fast = time_calls(lambda: runtime.predict(batch))
    return Baseline(f"{runtime.name}: loop of {NAIVE_MC_PASSES} model() passes vs batched MC", naive, fast)
