"""Runtimes: one small interface over every model file, used by evaluation and serving.

`load_runtime` is the only way a model file is opened: it checks the manifest's sha256 of the bytes
it then loads, and picks the engine (`digits.engines`) by file. A Keras model is served from its
`.tflite` export (recorded in the same manifest entry with its own sha256) by LiteRT, so serving
never imports TensorFlow. An `.h5` without its export is converted in memory when TensorFlow is
installed (training, notebooks), and refused with `ModelNotExportedError` otherwise.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from digits.config import IMAGE_SIZE, NUM_CLASSES
from digits.manifest import read_verified_model

EXPORT_COMMAND = "python -m digits.export --models-dir models"


class ModelNotExportedError(Exception):
    """A Keras `.h5` has no `.tflite` export, and TensorFlow (to convert it) is not installed."""


@dataclass(frozen=True)
class Prediction:
    """Per-image class probabilities; for Monte-Carlo models also their spread and entropy."""

    probabilities: np.ndarray  # (n, 10), rows sum to 1
    std: np.ndarray | None = None  # (n, 10) across Monte-Carlo passes
    predictive_entropy: np.ndarray | None = None  # (n,) of the mean probabilities, in nats
    not_a_digit_score: np.ndarray | None = None  # (n,) 0..1 from a model with a not-a-digit output


def split_outputs(output: np.ndarray) -> Prediction:
    """A deterministic model's output as a Prediction: ten digit probabilities, and when the model
    has an eleventh column (`NotADigitScore`), that column as the not-a-digit score."""
    if output.shape[-1] == NUM_CLASSES + 1:
        return Prediction(probabilities=output[:, :NUM_CLASSES], not_a_digit_score=output[:, NUM_CLASSES])
    return Prediction(probabilities=output)


class Runtime(Protocol):
    name: str
    family: str
    engine: str
    uncertainty: bool

    def predict(self, images: np.ndarray) -> Prediction:
        """Classify float32 (n, 28, 28) images in 0..1."""
        ...


def entropy(probabilities: np.ndarray) -> np.ndarray:
    """(n, 10) probabilities -> (n,) entropy in nats (a zero probability adds nothing)."""
    return -(probabilities * np.log(np.clip(probabilities, 1e-12, None))).sum(axis=1)


def monte_carlo_prediction(samples: np.ndarray) -> Prediction:
    """(samples, n, 10) stochastic passes -> their mean, spread and the mean's entropy."""
    mean = samples.mean(axis=0)
    return Prediction(probabilities=mean, std=samples.std(axis=0), predictive_entropy=entropy(mean))


def as_batch(images: np.ndarray) -> np.ndarray:
    batch = np.ascontiguousarray(images, dtype=np.float32)
    if batch.ndim == 2:
        batch = batch[None]
    if batch.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"expected images of shape (n, 28, 28), got {batch.shape}")
    return batch


def tensorflow_installed() -> bool:
    """Whether this environment can convert an `.h5` (training does; the API's image cannot)."""
    return importlib.util.find_spec("tensorflow") is not None


def load_runtime(models_dir: Path, entry: dict[str, Any]) -> Runtime:
    """Verify the entry's file (or its `.tflite` export) against the manifest, then load it."""
    name = str(entry["name"])
    suffix = Path(str(entry["file"])).suffix
    if suffix == ".pkl":
        from digits.engines.sklearn import load_sklearn

        return load_sklearn(name, read_verified_model(models_dir, entry)[1])
    if suffix != ".h5":
        raise ValueError(f"{entry['file']}: unknown model format {suffix!r} (expected .h5 or .pkl)")
    from digits.engines.litert import LiteRTRuntime

    export = entry.get("tflite")
    if isinstance(export, dict):
        return LiteRTRuntime(name, read_verified_model(models_dir, export)[1])
    if not tensorflow_installed():
        raise ModelNotExportedError(
            f"{entry['file']} has no .tflite export and TensorFlow is not installed to convert it: "
            f"run `{EXPORT_COMMAND}` where TensorFlow is installed (requirements.txt)."
        )
    from digits.engines.tensorflow import load_keras_bytes, tflite_flatbuffer

    return LiteRTRuntime(name, tflite_flatbuffer(load_keras_bytes(read_verified_model(models_dir, entry)[1])))
