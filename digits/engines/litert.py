"""Keras models served from their `.tflite` export by LiteRT (`ai-edge-litert`): no TensorFlow in
the process. A Monte-Carlo-dropout export returns every stochastic pass, shape (samples, n, 10),
from one call; the mean, spread and entropy are taken here."""

from __future__ import annotations

import queue

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from digits.runtime import Prediction, as_batch, monte_carlo_prediction, split_outputs


class LiteRTFunction:
    """A `.tflite` model as a numpy -> numpy function, safe to call from many threads.

    An interpreter is not thread-safe, so each call borrows one from a pool (a new one when all are
    busy): at most as many exist as threads ever called at once. Each runs on one thread: one small
    image gains nothing from more, and the server's workers already share the cores."""

    def __init__(self, flatbuffer: bytes) -> None:
        self._flatbuffer = flatbuffer
        self._idle: queue.SimpleQueue[_Interpreter] = queue.SimpleQueue()
        first = _Interpreter(flatbuffer)  # a broken file fails here, at load time
        self.output_rank = first.output_rank
        self._idle.put(first)

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
        self.interpreter = Interpreter(model_content=flatbuffer, num_threads=1)
        self.input = self.interpreter.get_input_details()[0]["index"]
        output = self.interpreter.get_output_details()[0]
        self.output = output["index"]
        self.output_rank = len(output["shape_signature"])
        self.shape: tuple[int, ...] | None = None

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        if batch.shape != self.shape:  # re-plan only when the batch size changes
            self.interpreter.resize_tensor_input(self.input, batch.shape, strict=False)
            self.interpreter.allocate_tensors()
            self.shape = batch.shape
        self.interpreter.set_tensor(self.input, batch)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output)


class LiteRTRuntime:
    """A Keras model's export: (n, 28, 28) -> (n, 10), or (samples, n, 10) for Monte-Carlo dropout."""

    family = "keras"
    engine = "litert"

    def __init__(self, name: str, flatbuffer: bytes) -> None:
        self.name = name
        self._forward = LiteRTFunction(flatbuffer)
        self.uncertainty = self._forward.output_rank == 3

    def predict(self, images: np.ndarray) -> Prediction:
        output = self._forward(as_batch(images))
        return monte_carlo_prediction(output) if self.uncertainty else split_outputs(output)
