"""Split a drawing of a number into its digits, left to right, each normalized like a single digit.

The picture and its ink come from `digits.preprocess` (`working_picture`, then `extract_ink`: the
same decoding, limits, averaging down of big pictures, polarity and background handling as
`/predict`), so a one-digit drawing yields the input `/predict` would use. Boxes are given in the
drawing's own pixels. The work is split by job:

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
from PIL import Image

from digits.config import MAX_DIGITS
from digits.preprocess import ImageInput, decode_image, extract_ink, working_picture
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
    picture, factor, size = _working(image)
    crops = group_crops(extract_ink(picture), max_digits)
    if classify is None:
        pieces = [piece for crop in crops for piece in crop.pieces(thinnest_cuts(crop))]
    else:
        pieces = read_best(crops, classify, touching)
    if len(pieces) > max_digits:
        raise too_many(len(pieces), max_digits)
    return _in_drawing_pixels(pieces, factor, size)


def whole_groups(image: ImageInput, *, max_digits: int = MAX_DIGITS) -> tuple[list[DigitPiece], np.ndarray]:
    """The drawing's groups of strokes left to right, each whole (before any cut), with their shape
    facts (see `Crop.shape_facts`): what a detector of touching digits learns from and judges."""
    picture, factor, size = _working(image)
    crops = group_crops(extract_ink(picture), max_digits)
    pieces = _in_drawing_pixels([crop.whole() for crop in crops], factor, size)
    return pieces, np.array([crop.shape_facts() for crop in crops])


def _working(image: ImageInput) -> tuple[ImageInput, int, tuple[int, int]]:
    """The picture `digits.preprocess` works on, the factor it was averaged down by, and the
    drawing's own (width, height), which boxes are clipped to."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        image = decode_image(bytes(image))
    if isinstance(image, Image.Image):
        size = image.size
    elif isinstance(image, np.ndarray) and image.ndim >= 2:
        size = (image.shape[1], image.shape[0])
    else:
        size = (0, 0)  # not a picture: `extract_ink` says so
    picture, factor = working_picture(image)
    return picture, factor, size


def _in_drawing_pixels(pieces: list[DigitPiece], factor: int, size: tuple[int, int]) -> list[DigitPiece]:
    """Boxes found on the averaged-down picture, in the drawing's own pixels (clipped to it)."""
    if factor == 1:
        return pieces
    width, height = size
    scaled = []
    for piece in pieces:
        x, y, w, h = (factor * value for value in piece.box)
        scaled.append(DigitPiece(box=(x, y, min(w, width - x), min(h, height - y)), image=piece.image))
    return scaled
