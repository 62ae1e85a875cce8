"""Split a drawing of a number into its digits, left to right, each normalized like a single digit.

The ink comes from `digits.preprocess.extract_ink` (same decoding, limits, polarity and background
handling as `/predict`), so a one-digit drawing yields the input `/predict` would use (exactly, up
to pictures large enough that `/predict` averages them down first; segmentation keeps every pixel,
as box coordinates are in the drawing's own). The work is split by job:

- `grouping`: connected components of the ink, noise specks dropped, the separate strokes of one
  digit merged into groups;
- `cutting`: where a group may be cut (the thinnest columns, its thinned ink, seams and the lattice
  of candidate pieces between them);
- `scoring`: which reading of each group a classifier (and a detector of touching digits,
  `digits.touching`) finds most plausible;
- `tuning`: every tuning constant, with where its value came from.
"""

from __future__ import annotations

import numpy as np

from digits.config import MAX_DIGITS
from digits.preprocess import ImageInput, extract_ink
from digits.segment.crop import SHAPE_FACTS, Classifier, DigitPiece, TouchingDetector
from digits.segment.cutting import thinnest_cuts
from digits.segment.grouping import TooManyDigitsError, group_crops, too_many
from digits.segment.scoring import read_best

__all__ = [
    "SHAPE_FACTS",
    "Classifier",
    "DigitPiece",
    "TooManyDigitsError",
    "TouchingDetector",
    "segment_digits",
    "whole_groups",
]


def segment_digits(
    image: ImageInput,
    *,
    max_digits: int = MAX_DIGITS,
    classify: Classifier | None = None,
    touching: TouchingDetector | None = None,
) -> list[DigitPiece]:
    """The digits of a drawing, left to right. `touching` (used only with `classify`) weighs whether
    each group of strokes is one digit or several touching ones (see `digits.touching`).

    Raises the errors of `extract_ink` (`InvalidImageError`, `ImageTooLargeError`, `EmptyImageError`)
    and `TooManyDigitsError` past `max_digits` pieces.
    """
    crops = group_crops(extract_ink(image), max_digits)
    if classify is None:
        pieces = [piece for crop in crops for piece in crop.pieces(thinnest_cuts(crop))]
    else:
        pieces = read_best(crops, classify, touching)
    if len(pieces) > max_digits:
        raise too_many(len(pieces), max_digits)
    return pieces


def whole_groups(image: ImageInput, *, max_digits: int = MAX_DIGITS) -> tuple[list[DigitPiece], np.ndarray]:
    """The drawing's groups of strokes left to right, each whole (before any cut), with their shape
    facts (see `Crop.shape_facts`): what a detector of touching digits learns from and judges."""
    crops = group_crops(extract_ink(image), max_digits)
    return [crop.whole() for crop in crops], np.array([crop.shape_facts() for crop in crops])
