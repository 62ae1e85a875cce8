"""Runtimes: one small interface over Keras and scikit-learn models, used by evaluation and serving.

`load_runtime` is the only way a model file is opened: it checks the manifest's sha256 first and
picks the runtime by file suffix. Keras is imported only when a Keras model is loaded.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from digits.config import IMAGE_SIZE, NUM_CLASSES
from digits.manifest import read_verified_model

MC_SAMPLES = 64  # stochastic passes averaged by a Monte-Carlo dropout model


@dataclass(frozen=True)
class Prediction:
    """Per-image class probabilities; for Monte-Carlo models also their spread and entropy."""

    probabilities: np.ndarray  # (n, 10), rows sum to 1
    std: np.ndarray | None = None  # (n, 10) across Monte-Carlo passes
    predictive_entropy: np.ndarray | None = None  # (n,) of the mean probabilities, in nats


class Runtime(Protocol):
    name: str
    family: str
    uncertainty: bool

    def predict(self, images: np.ndarray) -> Prediction:
        """Classify float32 (n, 28, 28) images in 0..1."""
        ...


class SklearnRuntime:
    """A fitted scikit-learn pipeline with `predict_proba`."""

    family = "sklearn"
    uncertainty = False

    def __init__(self, name: str, estimator: Any) -> None:
        self.name = name
        self.estimator = estimator

    def predict(self, images: np.ndarray) -> Prediction:
        probabilities = self.estimator.predict_proba(_as_batch(images))
        return Prediction(probabilities=_full_classes(probabilities, self.estimator.classes_))


class KerasRuntime:
    """A Keras model called through one compiled TensorFlow function (not `model.predict`,
    which costs tens of milliseconds per call in set-up alone).

    A model with Monte-Carlo dropout is split at its first `MCDropout` layer: the deterministic
    trunk runs once, and the stochastic head runs on the trunk's output repeated `mc_samples`
    times, as one batch.
    """

    family = "keras"

    def __init__(self, name: str, model: Any, *, mc_samples: int = MC_SAMPLES) -> None:
        import tensorflow as tf

        from digits.zoo.keras_models import MCDropout

        self.name = name
        self.model = model
        self.mc_samples = mc_samples
        split = next((i for i, layer in enumerate(model.layers) if isinstance(layer, MCDropout)), None)
        self.uncertainty = split is not None
        signature = [tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE], tf.float32)]
        if split is None:
            self._forward = tf.function(lambda x: model(x, training=False), input_signature=signature)
            return
        trunk_layers, head_layers = model.layers[1:split], model.layers[split:]

        def sample(x):
            features = x
            for layer in trunk_layers:
                features = layer(features, training=False)
            repeated = tf.repeat(features[None], mc_samples, axis=0)
            flat = tf.reshape(repeated, tf.concat([[-1], tf.shape(features)[1:]], axis=0))
            for layer in head_layers:
                flat = layer(flat, training=False)
            return tf.reshape(flat, [mc_samples, -1, NUM_CLASSES])

        self._forward = tf.function(sample, input_signature=signature)

    def predict(self, images: np.ndarray) -> Prediction:
        output = self._forward(_as_batch(images)).numpy()
        if not self.uncertainty:
            return Prediction(probabilities=output)
        mean = output.mean(axis=0)
        entropy = -(mean * np.log(np.clip(mean, 1e-12, None))).sum(axis=1)
        return Prediction(probabilities=mean, std=output.std(axis=0), predictive_entropy=entropy)


def load_runtime(models_dir: Path, entry: dict[str, Any]) -> Runtime:
    """Verify the entry's file against the manifest, then load it with the runtime its suffix names."""
    path, data = read_verified_model(models_dir, entry)
    name = str(entry["name"])
    if path.suffix == ".pkl":
        import joblib

        return SklearnRuntime(name, joblib.load(io.BytesIO(data)))
    if path.suffix == ".h5":
        return KerasRuntime(name, load_keras_h5(data))
    raise ValueError(f"{path}: unknown model format {path.suffix!r} (expected .h5 or .pkl)")


def load_keras_h5(data: bytes) -> Any:
    """Load a Keras `.h5` model from memory (the bytes whose hash was checked)."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    import digits.zoo.keras_models  # noqa: F401 - registers MCDropout for deserialisation

    with h5py.File(io.BytesIO(data), "r") as handle:
        return legacy_h5_format.load_model_from_hdf5(handle, compile=False)


def _as_batch(images: np.ndarray) -> np.ndarray:
    batch = np.asarray(images, dtype=np.float32)
    if batch.ndim == 2:
        batch = batch[None]
    if batch.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"expected images of shape (n, 28, 28), got {batch.shape}")
    return batch


def _full_classes(probabilities: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Spread columns over all ten digits, in case a model was fitted on data lacking some."""
    if len(classes) == NUM_CLASSES:
        return probabilities.astype(np.float32)
    full = np.zeros((len(probabilities), NUM_CLASSES), dtype=np.float32)
    full[:, np.asarray(classes, dtype=int)] = probabilities
    return full
