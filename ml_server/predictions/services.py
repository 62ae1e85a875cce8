"""Prediction services: plain functions the API views call (no request objects in here)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from digits.config import IMAGE_SIZE
from digits.notadigit import DECISION, not_a_digit_scores
from digits.preprocess import PreprocessError
from digits.reading import read_number
from digits.runtime import Prediction, Runtime
from predictions.errors import ModelUnavailableError
from predictions.inputs import preprocess_api_error
from predictions.registry import get_registry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DigitResult:
    """The answer for one image, in the contract's terms."""

    digit: int
    confidence: float
    probabilities: list[float]
    not_a_digit: bool
    not_a_digit_score: float  # 0..1, higher = less like a digit; above `DECISION` sets `not_a_digit`
    uncertainty: dict[str, Any] | None
    input: np.ndarray


@dataclass(frozen=True)
class PredictionBatch:
    model: str
    results: list[DigitResult]


def classify_digits(*, model_name: object | None, images: np.ndarray) -> PredictionBatch:
    """Classify float32 (n, 28, 28) inputs with one model in one call; None names the default model."""
    bundle = get_registry().bundle(model_name)
    runtime = bundle.runtime
    batch = np.asarray(images, dtype=np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    with _model_in_service(runtime):
        prediction = runtime.predict(batch)
    scores = not_a_digit_scores(batch, prediction, bundle.not_a_digit_rule)
    return PredictionBatch(runtime.name, _results(prediction, scores, batch))


@contextmanager
def _model_in_service(runtime: Runtime) -> Iterator[None]:
    """A model that loads but cannot run is out of service (503), not a 500."""
    try:
        yield
    except PreprocessError:
        raise
    except Exception as error:
        logger.exception("model %s failed to predict", runtime.name)
        raise ModelUnavailableError(f"Model {runtime.name!r} failed to predict: {type(error).__name__}") from error


def _results(prediction: Prediction, scores: np.ndarray, inputs: np.ndarray) -> list[DigitResult]:
    return [_result(prediction, index, float(scores[index]), inputs[index]) for index in range(len(inputs))]


def _result(prediction: Prediction, index: int, not_a_digit_score: float, image: np.ndarray) -> DigitResult:
    probabilities = np.asarray(prediction.probabilities[index], dtype=np.float64)
    probabilities = probabilities / probabilities.sum()
    digit = int(probabilities.argmax())
    uncertainty = None
    if prediction.std is not None and prediction.predictive_entropy is not None:
        uncertainty = {
            "predictive_entropy": float(prediction.predictive_entropy[index]),
            "std": [float(value) for value in prediction.std[index]],
        }
    return DigitResult(
        digit=digit,
        confidence=float(probabilities[digit]),
        probabilities=probabilities.tolist(),
        not_a_digit=not_a_digit_score > DECISION,
        not_a_digit_score=not_a_digit_score,
        uncertainty=uncertainty,
        input=image,
    )


def model_list() -> dict[str, Any]:
    """The manifest's models as `/list` shows them, with whether each is loaded (or why it failed)."""
    registry = get_registry()
    return {"default": registry.default_name, "models": [model_detail(name=name) for name in registry.names()]}


def model_detail(*, name: object) -> dict[str, Any]:
    slot = get_registry().slot(name)
    entry = slot.entry
    try:
        size = slot.path.stat().st_size
    except OSError:
        size = None
    detail = {
        "name": slot.name,
        "display_name": entry.get("display_name", slot.name),
        "family": entry.get("family"),
        "format": slot.path.suffix.lstrip(".") or None,
        "size_bytes": size,
        "metrics": entry.get("metrics", {}),
        "uncertainty": bool(entry.get("uncertainty", False)),
        "loaded": slot.loaded,
        "trained": entry.get("trained"),
    }
    if slot.error is not None:
        detail["error"] = slot.error
    return detail


@dataclass(frozen=True)
class NumberResult:
    batch: PredictionBatch
    boxes: list[tuple[int, int, int, int]]  # (x, y, w, h) of each digit in the image, left to right


def predict_number(*, model_name: object | None, image: bytes) -> NumberResult:
    """Read a drawn number with `digits.reading.read_number`, the path `digits.numbers` measures:
    the model, and the detector of touching digits its manifest entry holds, guide where digits
    are cut, and segmentation's readings of the pieces are the answer."""
    bundle = get_registry().bundle(model_name)  # unknown or broken model: 404/503 before any work
    runtime = bundle.runtime
    try:
        with _model_in_service(runtime):
            reading = read_number(runtime, image, touching=bundle.touching, not_a_digit_rule=bundle.not_a_digit_rule)
    except PreprocessError as error:
        raise preprocess_api_error(error) from error
    inputs = np.stack([piece.image for piece in reading.pieces])
    batch = PredictionBatch(runtime.name, _results(reading.prediction, reading.not_a_digit_score, inputs))
    return NumberResult(batch, [piece.box for piece in reading.pieces])
