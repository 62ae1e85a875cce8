"""Runtimes: one small interface over Keras and scikit-learn models, used by evaluation and serving.

`load_runtime` is the only way a model file is opened: it checks the manifest's sha256 first and
picks the runtime by file suffix. Keras is imported only when a Keras model is loaded.

A Keras model is served through TensorFlow Lite, converted in memory at load time from the `.h5`
(which stays the source), because a small batch costs far less there than through a compiled
TensorFlow function or `model.predict` (figures: docs/benchmarks.md, measured by `make bench`). The
conversion is checked against the TensorFlow function on a probe batch; if it fails or differs,
the TensorFlow function serves. `DIGITS_KERAS_ENGINE=tf` chooses the TensorFlow function outright.
"""

from __future__ import annotations

import io
import logging
import os
import queue
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from digits.config import IMAGE_SIZE, NUM_CLASSES
from digits.manifest import read_verified_model

logger = logging.getLogger(__name__)

MC_SAMPLES = 64  # stochastic passes averaged by a Monte-Carlo dropout model
ENGINES = ("tflite", "tf")
PROBE_TOLERANCE = 1e-4  # largest difference allowed between the TensorFlow Lite and TensorFlow outputs
STOCHASTIC_PROBE_TOLERANCE = 0.25  # the same for Monte-Carlo means: catches a broken conversion, not noise

ArrayFunction = Callable[[np.ndarray], np.ndarray]


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
    """A Keras model called through TensorFlow Lite or one compiled TensorFlow function (never
    `model.predict`, whose per-call set-up dwarfs a small batch's work: docs/benchmarks.md).

    A model with Monte-Carlo dropout is split at its first `MCDropout` layer: the deterministic
    trunk runs once, and the stochastic head runs on the trunk's output repeated `mc_samples`
    times, as one batch, inside the same compiled call.
    """

    family = "keras"

    def __init__(self, name: str, model: Any, *, mc_samples: int = MC_SAMPLES, engine: str | None = None) -> None:
        import tensorflow as tf

        from digits.zoo.keras_models import MCDropout

        self.name = name
        self.model = model
        self.mc_samples = mc_samples
        engine = engine or os.environ.get("DIGITS_KERAS_ENGINE", "tflite")
        if engine not in ENGINES:
            raise ValueError(f"unknown Keras engine {engine!r}; expected one of {', '.join(ENGINES)}")
        split = next((i for i, layer in enumerate(model.layers) if isinstance(layer, MCDropout)), None)
        self.uncertainty = split is not None
        if split is None:
            function = lambda x: model(x, training=False)  # noqa: E731
        else:
            function = _monte_carlo_sampler(model.layers[1:split], model.layers[split:], mc_samples)
        images = tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE], tf.float32)
        self._forward, self.engine = compile_function(
            function, images, model.variables, engine=engine, stochastic=self.uncertainty
        )

    def predict(self, images: np.ndarray) -> Prediction:
        output = self._forward(_as_batch(images))
        if not self.uncertainty:
            return split_outputs(output)
        mean = output.mean(axis=0)
        entropy = -(mean * np.log(np.clip(mean, 1e-12, None))).sum(axis=1)
        return Prediction(probabilities=mean, std=output.std(axis=0), predictive_entropy=entropy)


def _monte_carlo_sampler(trunk_layers: list[Any], head_layers: list[Any], samples: int) -> Callable:
    """(n, 28, 28) -> (samples, n, 10): the trunk once, the head on `samples` copies of its output.

    Each `MCDropout` is applied as `tf.nn.dropout` with the layer's rate, the same operation as
    Keras's dropout in training mode, but one TensorFlow Lite can run (it draws a fresh mask on
    every call, where Keras's seed-generator variable cannot be converted)."""
    import tensorflow as tf

    from digits.zoo.keras_models import MCDropout

    def sample(x):
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


def compile_function(
    function: Callable, spec: Any, variables: list[Any], *, engine: str, stochastic: bool = False
) -> tuple[ArrayFunction, str]:
    """`function` (tensor -> tensor) as a numpy -> numpy callable, and the engine that runs it:
    TensorFlow Lite when asked for and it agrees with the TensorFlow function on a probe batch,
    else the compiled TensorFlow function."""
    import tensorflow as tf

    compiled = tf.function(function, input_signature=[spec])

    def run_tf(batch: np.ndarray) -> np.ndarray:
        return compiled(batch).numpy()

    if engine == "tflite":
        try:
            lite = TFLiteFunction(tflite_flatbuffer(compiled, variables))
            probe = np.random.default_rng(0).random((4, *spec.shape[1:]), dtype=np.float32)
            difference = _probe_difference(lite(probe), run_tf(probe), stochastic=stochastic)
            if difference <= (STOCHASTIC_PROBE_TOLERANCE if stochastic else PROBE_TOLERANCE):
                return lite, "tflite"
            logger.warning("TensorFlow Lite differs from TensorFlow by %.2g; serving with TensorFlow", difference)
        except Exception as error:  # an op TensorFlow Lite lacks: the TensorFlow function still serves
            logger.warning("TensorFlow Lite conversion failed (%s); serving with TensorFlow", error)
    return run_tf, "tf"


def _probe_difference(lite: np.ndarray, reference: np.ndarray, *, stochastic: bool) -> float:
    """Largest disagreement; Monte-Carlo outputs are compared by their mean over the samples."""
    if lite.shape != reference.shape or not np.isfinite(lite).all():
        return float("inf")
    if stochastic:
        lite, reference = lite.mean(axis=0), reference.mean(axis=0)
    return float(np.abs(lite - reference).max())


def tflite_flatbuffer(compiled: Any, variables: list[Any]) -> bytes:
    """Convert a compiled function of one input to a TensorFlow Lite model (float32, no quantisation).

    The converter folds variables into constants only for the variables it can track, so they are
    handed over on a `tf.Module` (Keras 3 variables wrap the `tf.Variable` in `.value`)."""
    import tensorflow as tf

    holder = tf.Module()
    holder.tracked = [variable.value for variable in variables]
    converter = tf.lite.TFLiteConverter.from_concrete_functions([compiled.get_concrete_function()], holder)
    return converter.convert()


class TFLiteFunction:
    """A TensorFlow Lite model as a numpy -> numpy function, safe to call from many threads.

    An interpreter is not thread-safe, so each call borrows one from a pool (a new one when all are
    busy): at most as many exist as threads ever called at once. Each runs on one thread, since one
    small image gains nothing from more and the server's threads already share the cores."""

    def __init__(self, flatbuffer: bytes) -> None:
        self._flatbuffer = flatbuffer
        self._idle: queue.SimpleQueue[_Interpreter] = queue.SimpleQueue()
        self._idle.put(_Interpreter(flatbuffer))  # a broken model fails here, at load time

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        try:
            interpreter = self._idle.get_nowait()
        except queue.Empty:
            interpreter = _Interpreter(self._flatbuffer)
        try:
            return interpreter(batch)
        finally:
            self._idle.put(interpreter)


class _Interpreter:
    def __init__(self, flatbuffer: bytes) -> None:
        import tensorflow as tf

        with warnings.catch_warnings():  # tf.lite.Interpreter announces its move to the ai-edge-litert package
            warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated", category=UserWarning)
            self.interpreter = tf.lite.Interpreter(model_content=flatbuffer, num_threads=1)
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.output = self.interpreter.get_output_details()[0]["index"]
        self.shape: tuple[int, ...] | None = None

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        if batch.shape != self.shape:  # re-plan only when the batch size changes
            self.interpreter.resize_tensor_input(self.input, batch.shape, strict=False)
            self.interpreter.allocate_tensors()
            self.shape = batch.shape
        self.interpreter.set_tensor(self.input, batch)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output)


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

    import digits.zoo.keras_models  # noqa: F401 - registers MCDropout and NotADigitScore for deserialisation

    with h5py.File(io.BytesIO(data), "r") as handle:
        return legacy_h5_format.load_model_from_hdf5(handle, compile=False)


def _as_batch(images: np.ndarray) -> np.ndarray:
    batch = np.ascontiguousarray(images, dtype=np.float32)
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
