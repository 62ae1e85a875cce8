"""Reading a drawn number: the one path `/predict/number` serves and `digits.numbers` measures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from digits.config import MAX_DIGITS
from digits.notadigit import not_a_digit_scores
from digits.preprocess import ImageInput
from digits.runtime import Prediction, Runtime
from digits.segment import DigitPiece, TouchingDetector, segment_digits


@dataclass(frozen=True)
class NumberReading:
    """The digits of a drawing, left to right: each piece (box and 28x28 input), the model's
    prediction for them (with Monte-Carlo uncertainty where the model has it), and how unlike a
    digit each piece is (`digits.notadigit`: above 0.5, not a digit)."""

    pieces: list[DigitPiece]
    prediction: Prediction
    not_a_digit_score: np.ndarray  # (n,) 0..1

    @property
    def number(self) -> str:
        return "".join(str(int(digit)) for digit in self.prediction.probabilities.argmax(axis=1))


def read_number(
    runtime: Runtime,
    image: ImageInput,
    *,
    touching: TouchingDetector | None = None,
    not_a_digit_rule: dict[str, Any] | None = None,
    max_digits: int = MAX_DIGITS,
) -> NumberReading:
    """Segment a drawing guided by the model (and the detector of touching digits, if any), and
    read its digits. Segmentation has read every piece it returns; those readings are reused,
    unless the model's uncertainty is wanted too, or a piece was never read (then the pieces go
    through the model again, in one batch). `not_a_digit_rule` is the manifest entry's
    `not_a_digit` (None: `digits.notadigit`'s default).

    Raises the errors of `segment_digits` (`PreprocessError`s, `TooManyDigitsError` past
    `max_digits`).
    """
    readings: dict[bytes, tuple[np.ndarray, float | None]] = {}  # probabilities and the model's own score

    def classify(batch: np.ndarray) -> np.ndarray:
        prediction = runtime.predict(batch)
        scores = prediction.not_a_digit_score
        for index, image in enumerate(batch):
            score = None if scores is None else float(scores[index])
            readings[image.tobytes()] = (prediction.probabilities[index], score)
        return prediction.probabilities

    pieces = segment_digits(image, max_digits=max_digits, classify=classify, touching=touching)
    inputs = np.stack([piece.image for piece in pieces])
    known = [readings[key] for key in (piece.image.tobytes() for piece in pieces) if key in readings]
    if runtime.uncertainty or len(known) < len(pieces):
        prediction = runtime.predict(inputs)
    else:
        scores = [score for _, score in known]
        own = None if any(score is None for score in scores) else np.asarray(scores)
        prediction = Prediction(probabilities=np.stack([p for p, _ in known]), not_a_digit_score=own)
    return NumberReading(pieces, prediction, not_a_digit_scores(inputs, prediction, not_a_digit_rule))
