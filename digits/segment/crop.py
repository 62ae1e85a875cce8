"""The ink of one group of strokes (or a part of one) and the digit piece it becomes."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from digits.preprocess import normalize_ink
from digits.segment.tuning import MIN_PIECE_HEIGHT, WIDEST_DIGIT

Classifier = Callable[[np.ndarray], np.ndarray]  # (n, 28, 28) float32 -> (n, 10) probabilities
# (n, 28, 28) inputs and (n, SHAPE_FACTS) shape facts (`Crop.shape_facts`) -> (n,) probability that
# each holds several touching digits (see `digits.touching`)
TouchingDetector = Callable[[np.ndarray, np.ndarray], np.ndarray]
SHAPE_FACTS = 4  # numbers per group in `Crop.shape_facts`


@dataclass(frozen=True)
class DigitPiece:
    """One digit of the drawing: its box (x, y, w, h) in the original pixels and its 28x28 input."""

    box: tuple[int, int, int, int]
    image: np.ndarray


class Crop:
    """A group's ink (only its own components) and where it sits in the drawing."""

    def __init__(self, ink: np.ndarray, mask: np.ndarray, x: int, y: int, reference: float = np.inf) -> None:
        self.ink, self.mask, self.x, self.y = ink, mask, x, y
        self.height, self.width = mask.shape
        self.ratio = self.width / self.height
        self.reference = reference  # height of the number's other digits (their median), if any
        self._pen_width: float | None = None  # measured once: shape facts, thinning and cuts all ask

    @property
    def widest(self) -> float:
        """The widest a digit here may plausibly be: none is much wider than the number's digits are
        tall (two touching digits often are)."""
        return WIDEST_DIGIT * self.reference

    @property
    def shortest(self) -> float:
        """The shortest a digit here may be: a touching neighbour drawn higher or lower makes the group
        taller than either digit, so the number's other digits count too."""
        return MIN_PIECE_HEIGHT * min(self.height, self.reference)

    def piece(self, start: int, stop: int) -> DigitPiece | None:
        """The ink between two columns, trimmed and normalized; None when there is none."""
        mask = np.zeros_like(self.mask)
        mask[:, start:stop] = self.mask[:, start:stop]
        part = self.part(mask)
        return None if part is None else part.whole()

    def pieces(self, cuts: list[int]) -> list[DigitPiece]:
        """The ink between consecutive cuts, left to right; uncut, the whole crop (faint edges kept)."""
        if not cuts:
            return [self.whole()]
        edges = [0, *cuts, self.width]
        found = (self.piece(start, stop) for start, stop in itertools.pairwise(edges))
        return [piece for piece in found if piece is not None]

    def shape_facts(self) -> np.ndarray:
        """What the normalized input hides: log width/height, width and height against the number's
        other digits (this group's own height when alone), and log pen width/height."""
        reference = self.reference if np.isfinite(self.reference) else self.height
        return np.log([self.ratio, self.width / reference, self.height / reference, self.pen_width() / self.height])

    def pen_width(self) -> float:
        """Mean stroke width: a stroke of length L and width p has area Lp and a border of 2L pixels."""
        if self._pen_width is None:
            border = self.mask & ~ndimage.binary_erosion(self.mask)
            self._pen_width = float(self.mask.sum()) / max(1.0, border.sum() / 2)
        return self._pen_width

    def part(self, mask: np.ndarray) -> Crop | None:
        """The ink under `mask` (a part of this crop) as a crop of its own, trimmed to it; None when
        there is none."""
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if rows.size == 0:
            return None
        window = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        own = mask[window]
        x, y = self.x + int(cols[0]), self.y + int(rows[0])
        return Crop(np.where(own, self.ink[window], np.float32(0.0)), own, x, y, self.reference)

    def whole(self) -> DigitPiece:
        """All of this crop's ink as one digit, normalized."""
        box = (int(self.x), int(self.y), self.width, self.height)
        return DigitPiece(box=box, image=normalize_ink(self.ink))
