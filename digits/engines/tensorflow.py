"""The TensorFlow side of a Keras model: load its `.h5` with Keras's public API and convert it to
the `.tflite` flatbuffer LiteRT serves. Used at training (`python -m digits.export`) and as the
fallback for an `.h5` dropped in without its export; the API never imports this otherwise.

A Monte-Carlo-dropout model is exported as one sampler: the deterministic trunk runs once, the
stochastic head on `MC_SAMPLES` copies of its output, all in one call, returning (samples, n, 10).
Each `MCDropout` becomes `tf.nn.dropout` with the layer's rate, the operation Keras's dropout runs in
training mode, but one LiteRT can run (a fresh mask on every call; Keras's seed-generator variable
cannot be converted).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from digits.config import IMAGE_SIZE, NUM_CLASSES
from digits.runtime import Prediction, as_batch, monte_carlo_prediction, split_outputs

MC_SAMPLES = 64  # stochastic passes averaged by a Monte-Carlo-dropout model


def load_keras_model(path: Path) -> Any:
    """A `.h5` through `keras.saving.load_model` (the Keras pin keeps the legacy format readable)."""
    import keras

    import digits.zoo.keras_models  # noqa: F401 - registers MCDropout for deserialisation

    return keras.saving.load_model(path, compile=False)


def load_keras_bytes(data: bytes) -> Any:
    """A verified `.h5` held in memory: Keras reads `.h5` only from a path, so through a private temp file."""
    with tempfile.NamedTemporaryFile(suffix=".h5") as handle:
        handle.write(data)
        handle.flush()
        return load_keras_model(Path(handle.name))


def is_monte_carlo(model: Any) -> bool:
    return _first_mc_dropout(model) is not None


def serving_function(model: Any, *, mc_samples: int = MC_SAMPLES) -> Any:
    """The model as one compiled function of float32 (n, 28, 28) images: (n, 10) probabilities, or
    (mc_samples, n, 10) for a Monte-Carlo-dropout model."""
    import tensorflow as tf

    split = _first_mc_dropout(model)
    if split is None:
        function: Callable = lambda x: model(x, training=False)  # noqa: E731
    else:
        function = _monte_carlo_sampler(model.layers[1:split], model.layers[split:], mc_samples)
    spec = tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE], tf.float32)
    return tf.function(function, input_signature=[spec])


def tflite_flatbuffer(model: Any, *, mc_samples: int = MC_SAMPLES) -> bytes:
    """The model as a float32 `.tflite` (no quantisation, so its answers match Keras's: test_export checks how closely).

    The converter folds variables into constants only for the variables it can track, so they are
    handed over on a `tf.Module` (Keras 3 variables wrap the `tf.Variable` in `.value`)."""
    import tensorflow as tf

    compiled = serving_function(model, mc_samples=mc_samples)
    holder = tf.Module()
    holder.tracked = [variable.value for variable in model.variables]
    converter = tf.lite.TFLiteConverter.from_concrete_functions([compiled.get_concrete_function()], holder)
    return converter.convert()


class TensorFlowRuntime:
    """The same function run by TensorFlow itself: the reference the export is checked against, and
    the comparison the benchmark prints."""

    family = "keras"
    engine = "tensorflow"

    def __init__(self, name: str, model: Any, *, mc_samples: int = MC_SAMPLES) -> None:
        self.name = name
        self.model = model
        self.uncertainty = is_monte_carlo(model)
        self._compiled = serving_function(model, mc_samples=mc_samples)

    def predict(self, images: np.ndarray) -> Prediction:
        output = self._compiled(as_batch(images)).numpy()
        return monte_carlo_prediction(output) if self.uncertainty else split_outputs(output)


def _first_mc_dropout(model: Any) -> int | None:
    from digits.zoo.keras_models import MCDropout

    return next((i for i, layer in enumerate(model.layers) if isinstance(layer, MCDropout)), None)


def _monte_carlo_sampler(trunk_layers: list[Any], head_layers: list[Any], samples: int) -> Callable:
    """(n, 28, 28) -> (samples, n, 10): the trunk once, the head on `samples` copies of its output."""
    import tensorflow as tf

    from digits.zoo.keras_models import MCDropout

    def sample(x: Any) -> Any:
        for layer in trunk_layers:
            x = layer(x, training=False)
        flat = tf.reshape(tf.repeat(x[None], samples, axis=0), tf.concat([[-1], tf.shape(x)[1:]], axis=0))
        for layer in head_layers:
            if isinstance(layer, MCDropout):
                flat = tf.nn.dropout(flat, rate=layer.rate, noise_shape=layer.noise_shape)
            else:
                flat = layer(flat, training=False)
        return tf.reshape(flat, [samples, -1, NUM_CLASSES])

    return sample
