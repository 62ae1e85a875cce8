"""Prediction services: plain functions the API views call (no request objects in here)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from digits.config import IMAGE_SIZE
from digits.notadigit import DECISION, not_a_digit_scores
from digits.preprocess import PreprocessError
from digits.runtime import Prediction
from digits.segment import segment_digits
from predictions.errors import ModelUnavailableError
from predictions.inputs import preprocess_api_error
from predictions.registry import get_registry

logger = logging.getLogger(__name__)

MAX_DIGITS = 32  # the contract's limit for /predict/number (too_many_digits past it)


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


def predict_digits(*, model_name: object | None, images: np.ndarray) -> PredictionBatch:
    """Classify float32 (n, 28, 28) inputs with one model in one call; None names the default model."""
    registry = get_registry()
    runtime = registry.get(model_name)
    entry = registry.slot(runtime.name).entry
    batch = np.asarray(images, dtype=np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    try:
        prediction = runtime.predict(batch)
    except Exception as error:  # a model that loads but cannot run is out of service, not a 500
        logger.exception("model %s failed to predict", runtime.name)
        raise ModelUnavailableError(f"Model {runtime.name!r} failed to predict: {type(error).__name__}") from error
    scores = not_a_digit_scores(batch, prediction, entry.get("not_a_digit"))
    results = [_result(prediction, index, float(scores[index]), batch[index]) for index in range(len(batch))]
    return PredictionBatch(runtime.name, results)


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
        "loaded": slot.runtime is not None,
        "trained": entry.get("trained"),
    }
    if slot.error is not None:
        detail["error"] = slot.error
    return detail


@dataclass(frozen=True)
class NumberReading:
    batch: PredictionBatch
    boxes: list[tuple[int, int, int, int]]  # (x, y, w, h) of each digit in the image, left to right


def predict_number(*, model_name: object | None, image: bytes) -> NumberReading:
    """Split a drawn number into its digits and classify them in one batch; the same model, and the
    detector of touching digits its manifest entry holds, guide where digits are cut (`digits.segment`)."""
    registry = get_registry()
    runtime = registry.get(model_name)  # unknown or broken model: 404/503 before any work
    try:
        pieces = segment_digits(
            image,
            max_digits=MAX_DIGITS,
            classify=lambda batch: runtime.predict(batch).probabilities,
            touching=registry.slot(runtime.name).touching_detector(),
        )
    except PreprocessError as error:
        raise preprocess_api_error(error) from error
    batch = predict_digits(model_name=runtime.name, images=np.stack([piece.image for piece in pieces]))
    return NumberReading(batch, [piece.box for piece in pieces])
