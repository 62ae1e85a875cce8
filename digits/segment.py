"""Split a drawing of a number into its digits, left to right, each normalized like a single digit.

The ink comes from `digits.preprocess.extract_ink` (same decoding, limits, polarity and background
handling as `/predict`), so a one-digit drawing yields exactly the input `/predict` would use.
Connected components of the ink are the starting point: noise specks are dropped, the separate
strokes of one digit (the bar of a 4, the flag of a 5, a broken stroke) are merged, and a piece too
wide for one digit (touching digits) is cut where the ink is thinnest (vertical projection).

Given a classifier, pieces are scored by how plausibly it reads them (its confidence, and whether
the piece is shaped like the class it is read as). Each group is read whole and, when wider than
most digits, also as the parts it falls into when its ink is thinned (which follows the contact of
touching digits where no straight cut does); one classifier call covers the drawing. Only groups
still read poorly then get candidate straight cuts, chosen by dynamic programming in a second call.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from digits.preprocess import INK_MASK_LEVEL, EmptyImageError, ImageInput, PreprocessError, extract_ink, normalize_ink

Classifier = Callable[[np.ndarray], np.ndarray]  # (n, 28, 28) float32 -> (n, 10) probabilities

MAX_DIGITS = 32
SPECK_FRACTION = 0.1  # a component whose longest side is under this share of the tallest one is noise
OVERLAP_FRACTION = 0.5  # components sharing this share of the narrower one's columns are one digit
PART_FRACTION = 0.75  # a component shorter than this share of the tallest one may be part of a digit...
NEAR_FRACTION = 0.2  # ...and joins the nearest taller one when closer than this share of the tallest
STRAY_FRACTION = 1 / 3  # a stroke this small (share of the tallest) that joined no digit is a stray mark
MAX_COMPONENTS = 512  # more candidate strokes than this is a scribble, not a number
SPLIT_RATIO = 1.45  # width/height above which, without a classifier, a piece is taken for touching digits
CONSIDER_RATIO = 0.8  # with a classifier, pieces wider than this are also read as their thinned parts
MAX_DIGIT_RATIO = 1.7  # no single digit is wider than this (MNIST's widest are about 1.5)
DIGIT_RATIO = 0.75  # a typical digit's width/height (MNIST's median), sets how many digits touch
MIN_PIECE_FRACTION = 0.06  # narrowest piece a cut may leave, as a share of the height
MIN_PIECE_HEIGHT = 0.7  # a piece shorter than this share of its group's height is a fragment, not a digit
SPLIT_COST = 0.15  # log-odds a cut must win by: confident classifiers read fragments confidently too...
THICK_COST = 0.1  # ...and more for each pen width of ink the cut goes through beyond one (digits touch thinly)
# Width/height of each digit class in MNIST's training set, 1st and 99th percentiles (but a 1 drawn
# as one thin pen stroke may be narrower than MNIST's): a piece read as a 4 but shaped like a sliver
# is a fragment. Outside its range a reading loses ASPECT_COST per unit of log ratio.
ASPECT_RANGE = np.array(
    [(0.55, 1.43), (0.05, 1.0), (0.6, 1.67), (0.5, 1.25), (0.5, 1.25), (0.5, 1.67), (0.45, 1.11), (0.5, 1.25),
     (0.45, 1.25), (0.4, 1.05)]
)  # fmt: skip
ASPECT_COST = 6.0
CUT_STEP_FRACTION = 0.12  # candidate cuts: the thinnest column in each step of this share of the height
THINNED_BONUS = 0.5  # log-odds by which parts of thinned ink may read worse than the whole and still win
THINNING_LEVELS = (0.3, 0.5, 0.7)  # stronger ink levels tried when looking for touching digits' cores
EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


class TooManyDigitsError(PreprocessError):
    code = "too_many_digits"


@dataclass(frozen=True)
class DigitPiece:
    """One digit of the drawing: its box (x, y, w, h) in the original pixels and its 28x28 input."""

    box: tuple[int, int, int, int]
    image: np.ndarray


@dataclass(frozen=True)
class _Group:
    """Components taken for one digit (or for touching digits, until they are cut)."""

    labels: np.ndarray  # component label ids
    top: int
    left: int
    bottom: int
    right: int


def segment_digits(
    image: ImageInput, *, max_digits: int = MAX_DIGITS, classify: Classifier | None = None
) -> list[DigitPiece]:
    """The digits of a drawing, left to right.

    Raises the errors of `extract_ink` (`InvalidImageError`, `ImageTooLargeError`, `EmptyImageError`)
    and `TooManyDigitsError` past `max_digits` pieces.
    """
    ink = extract_ink(image)
    labels, count = ndimage.label(ink > INK_MASK_LEVEL, structure=EIGHT_CONNECTED)
    if count == 0:
        raise EmptyImageError("The image is blank: no digit was drawn.")
    boxes = np.array([(s[0].start, s[1].start, s[0].stop, s[1].stop) for s in ndimage.find_objects(labels)])
    ids = np.arange(1, count + 1)
    heights, widths = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    keep = np.maximum(heights, widths) >= SPECK_FRACTION * heights.max()
    if keep.sum() > max(MAX_COMPONENTS, max_digits):
        raise _too_many(int(keep.sum()), max_digits)
    groups = _merge_strokes(boxes[keep], ids[keep])
    tallest = max(group.bottom - group.top for group in groups)
    groups = [g for g in groups if max(g.bottom - g.top, g.right - g.left) >= STRAY_FRACTION * tallest]
    if len(groups) > max_digits:
        raise _too_many(len(groups), max_digits)
    groups.sort(key=lambda group: group.left + group.right)
    crops = [_Crop.of(group, labels, ink) for group in groups]
    if classify is None:
        pieces = [piece for crop in crops for piece in crop.pieces(crop.thinnest_cuts())]
    else:
        pieces = _read_best(crops, classify)
    if len(pieces) > max_digits:
        raise _too_many(len(pieces), max_digits)
    return pieces


def _too_many(found: int, max_digits: int) -> TooManyDigitsError:
    return TooManyDigitsError(f"Found {found} separate marks; at most {max_digits} digits are read at once.")


def _merge_strokes(boxes: np.ndarray, ids: np.ndarray) -> list[_Group]:
    """Union components that overlap strongly in x, or small ones close to a taller one, until stable."""
    groups = [_Group(ids[i : i + 1], *boxes[i]) for i in range(len(ids))]
    tallest = float((boxes[:, 2] - boxes[:, 0]).max())
    while len(groups) > 1:
        box = np.array([(g.top, g.left, g.bottom, g.right) for g in groups], dtype=float)
        top, left, bottom, right = box.T
        height, width = bottom - top, right - left
        overlap = np.minimum(right[:, None], right[None]) - np.maximum(left[:, None], left[None])
        linked = overlap >= OVERLAP_FRACTION * np.minimum(width[:, None], width[None])
        gap_x = np.maximum(0.0, np.maximum(left[:, None], left[None]) - np.minimum(right[:, None], right[None]))
        gap_y = np.maximum(0.0, np.maximum(top[:, None], top[None]) - np.minimum(bottom[:, None], bottom[None]))
        gap = np.where(height[None] > height[:, None], np.hypot(gap_x, gap_y), np.inf)  # to taller groups only
        nearest = gap.argmin(axis=1)
        part = (height < PART_FRACTION * tallest) & (gap.min(axis=1) < NEAR_FRACTION * tallest)
        linked[np.flatnonzero(part), nearest[part]] = True
        np.fill_diagonal(linked, False)
        if not linked.any():
            break
        count, membership = connected_components(coo_matrix(linked), directed=False)
        groups = [_union([g for g, m in zip(groups, membership, strict=True) if m == k]) for k in range(count)]
    return groups


def _union(groups: list[_Group]) -> _Group:
    return _Group(
        np.concatenate([g.labels for g in groups]),
        min(g.top for g in groups),
        min(g.left for g in groups),
        max(g.bottom for g in groups),
        max(g.right for g in groups),
    )


def _read_best(crops: list[_Crop], classify: Classifier) -> list[DigitPiece]:
    """Read each group whole and, when wide, as the parts its thinned ink falls into (one classifier
    call); then search cuts (a second call) only for groups where a cut could still score higher."""
    wholes = [crop.piece(0, crop.width) for crop in crops]
    thinned = [crop.eroded_pieces() if crop.ratio > CONSIDER_RATIO else [] for crop in crops]
    scores = _read(classify, [*wholes, *itertools.chain.from_iterable(thinned)])
    choices: list[tuple[float, list[DigitPiece]]] = []
    used = len(crops)
    for crop, whole, parts, score in zip(crops, wholes, thinned, scores, strict=False):
        choice = (float(score) if crop.ratio <= MAX_DIGIT_RATIO else -np.inf, [whole])
        # Ink that falls apart when thinned is evidence of touching digits: that split pays no cut cost,
        # and wins when read about as well as the whole (a confident classifier reads blobs confidently).
        if parts and float(scores[used : used + len(parts)].sum()) + THINNED_BONUS >= choice[0]:
            choice = (float(scores[used : used + len(parts)].sum()), parts)
        used += len(parts)
        choices.append(choice)
    wanted = [k for k in range(len(crops)) if choices[k][0] < -SPLIT_COST]  # else no cut can score higher
    lattices = [crops[k].lattice() for k in wanted]
    scores = _read(classify, [piece for lattice in lattices for piece in lattice.pieces])
    used = 0
    for k, lattice in zip(wanted, lattices, strict=True):
        cut = lattice.best(scores[used : used + len(lattice.pieces)])
        used += len(lattice.pieces)
        if cut[0] > choices[k][0]:
            choices[k] = cut
    pieces = []
    for crop, (score, read) in zip(crops, choices, strict=True):
        pieces.extend(read if np.isfinite(score) else crop.pieces(crop.thinnest_cuts()))  # too wide, no reading
    return pieces


def _read(classify: Classifier, pieces: list[DigitPiece]) -> np.ndarray:
    if not pieces:
        return np.zeros(0)
    aspect = np.array([piece.box[2] / piece.box[3] for piece in pieces])
    return _plausibility(classify(np.stack([piece.image for piece in pieces])), aspect)


def _plausibility(probabilities: np.ndarray, aspect: np.ndarray) -> np.ndarray:
    """Best reading of each piece: log probability of a class, less a cost when the piece is not
    shaped like that class."""
    log_ratio = np.log(aspect)[:, None]
    outside = np.maximum(np.log(ASPECT_RANGE[:, 0]) - log_ratio, 0.0) + np.maximum(
        log_ratio - np.log(ASPECT_RANGE[:, 1]), 0.0
    )
    return (np.log(np.clip(probabilities, 1e-9, None)) - ASPECT_COST * outside).max(axis=1)


class _Crop:
    """A group's ink (only its own components) and where it sits in the drawing."""

    def __init__(self, ink: np.ndarray, mask: np.ndarray, x: int, y: int) -> None:
        self.ink, self.mask, self.x, self.y = ink, mask, x, y
        self.height, self.width = mask.shape
        self.ratio = self.width / self.height

    @classmethod
    def of(cls, group: _Group, labels: np.ndarray, ink: np.ndarray) -> _Crop:
        window = np.s_[group.top : group.bottom, group.left : group.right]
        mask = np.isin(labels[window], group.labels)
        return cls(np.where(mask, ink[window], 0.0).astype(np.float32), mask, group.left, group.top)

    def piece(self, start: int, stop: int) -> DigitPiece | None:
        """The ink between two columns, trimmed and normalized; None when there is none."""
        mask = np.zeros_like(self.mask)
        mask[:, start:stop] = self.mask[:, start:stop]
        return self.owned_piece(mask)

    def pieces(self, cuts: list[int]) -> list[DigitPiece]:
        edges = [0, *cuts, self.width]
        found = (self.piece(start, stop) for start, stop in itertools.pairwise(edges))
        return [piece for piece in found if piece is not None]

    def thinnest_cuts(self) -> list[int]:
        """Without a classifier: as many digits as the width suggests, each cut at the thinnest
        column within a third of a digit's width of where it is expected."""
        if self.ratio <= SPLIT_RATIO:
            return []
        projection = self.mask.sum(axis=0)
        count = max(2, round(self.ratio / DIGIT_RATIO))
        step = self.width / count
        cuts = []
        for k in range(1, count):
            columns = np.arange(round(k * step - step / 3), round(k * step + step / 3) + 1)
            cost = projection[columns] + np.abs(columns - k * step) / self.width  # distance only breaks ties
            cuts.append(int(columns[cost.argmin()]))
        return cuts

    def lattice(self) -> _Lattice:
        """Candidate pieces between candidate cuts: the thinnest column in each short step."""
        projection = self.mask.sum(axis=0)
        margin = max(1, round(MIN_PIECE_FRACTION * self.height))
        step = max(1, round(CUT_STEP_FRACTION * self.height))
        edges = [0]
        for low in range(margin, self.width - margin, step):
            cut = low + int(projection[low : min(low + step, self.width - margin + 1)].argmin())
            if cut - edges[-1] >= margin:
                edges.append(cut)
        edges.append(self.width)
        thickness = projection[edges[:-1]] / self.pen_width()
        cut_cost = SPLIT_COST + THICK_COST * np.maximum(thickness - 1.0, 0.0)
        cut_cost[0] = 0.0
        spans, pieces = [], []
        for i in range(len(edges)):
            for j in range(i + 1, len(edges)):
                if edges[j] - edges[i] > MAX_DIGIT_RATIO * self.height:
                    break
                piece = self.piece(edges[i], edges[j])
                if piece is not None and piece.box[3] >= MIN_PIECE_HEIGHT * self.height:
                    spans.append((i, j))
                    pieces.append(piece)
        return _Lattice(cut_cost, spans, pieces)

    def pen_width(self) -> float:
        """Mean stroke width: a stroke of length L and width p has area Lp and a border of 2L pixels."""
        border = self.mask & ~ndimage.binary_erosion(self.mask)
        return float(self.mask.sum()) / max(1.0, border.sum() / 2)

    def eroded_pieces(self) -> list[DigitPiece]:
        """Touching digits meet at a contact thinner than their strokes: thin the ink until it falls
        apart into tall cores, then give every ink pixel to the nearest core. Thinning first keeps
        only stronger ink (soft strokes, such as scans or scaled-up digits, touch by their faint
        edges), then erodes the mask (never past its strokes). Tall strokes merged only by their
        overlap are such cores before any thinning. Empty when no such cores appear."""
        depth = ndimage.distance_transform_edt(self.mask)  # eroding by r keeps the pixels deeper than r
        masks = itertools.chain(
            (self.ink > level for level in (INK_MASK_LEVEL, *THINNING_LEVELS)),
            (depth > r for r in range(1, 1 + max(1, int((self.pen_width() - 1) // 2)))),
        )
        for mask in masks:
            cores, _ = ndimage.label(mask, structure=EIGHT_CONNECTED)
            tall = [
                k + 1
                for k, s in enumerate(ndimage.find_objects(cores))
                if s[0].stop - s[0].start >= MIN_PIECE_HEIGHT * self.height
            ]
            if len(tall) >= 2:
                seeds = np.where(np.isin(cores, tall), cores, 0)
                nearest = ndimage.distance_transform_edt(seeds == 0, return_distances=False, return_indices=True)
                owner = np.where(self.mask, seeds[tuple(nearest)], 0)
                found = (self.owned_piece(owner == k) for k in tall)
                return sorted((piece for piece in found if piece is not None), key=lambda piece: piece.box[0])
        return []

    def owned_piece(self, mask: np.ndarray) -> DigitPiece | None:
        """The ink under `mask` (a part of this crop), trimmed and normalized; None when there is none."""
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if rows.size == 0:
            return None
        window = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        box = (int(self.x + cols[0]), int(self.y + rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))
        return DigitPiece(box=box, image=normalize_ink(np.where(mask[window], self.ink[window], 0.0)))


@dataclass(frozen=True)
class _Lattice:
    """Ways to cut one group: pieces spanning candidate cut i to cut j."""

    cut_cost: np.ndarray  # what cutting at each edge costs (nothing at the first)
    spans: list[tuple[int, int]]
    pieces: list[DigitPiece]  # one per span

    def best(self, confidence: np.ndarray) -> tuple[float, list[DigitPiece]]:
        """The path of pieces from the first edge to the last with the highest total plausibility
        less a cost per cut, with its score (-inf and no pieces when none exists)."""
        best: list[tuple[float, list[DigitPiece]]] = [(0.0, [])] + [(-np.inf, [])] * len(self.cut_cost)
        order = sorted(range(len(self.spans)), key=lambda k: self.spans[k][1])
        for k in order:
            (i, j), piece = self.spans[k], self.pieces[k]
            score = best[i][0] + confidence[k] - self.cut_cost[i]
            if score > best[j][0]:
                best[j] = (score, [*best[i][1], piece])
        return best[-1]
