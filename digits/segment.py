"""Split a drawing of a number into its digits, left to right, each normalized like a single digit.

The ink comes from `digits.preprocess.extract_ink` (same decoding, limits, polarity and background
handling as `/predict`), so a one-digit drawing yields the input `/predict` would use (exactly, up
to pictures large enough that `/predict` averages them down first; segmentation keeps every pixel,
as box coordinates are in the drawing's own). Connected components of the ink are the starting
point: noise specks are dropped, the separate strokes of one digit (the bar of a 4, the flag of a
5, a broken stroke) are merged, and a piece too wide for one digit (touching digits) is cut where
the ink is thinnest.

Given a classifier, pieces are scored by how plausibly it reads them: its confidence, whether the
piece is shaped like the class it is read as, and whether it is narrower than the number's other
digits are tall (a confident classifier reads two touching digits as one wide one). Sizes are
judged against the number's other digits too: a digit touching a neighbour drawn higher or lower
is short next to their group, not next to the number. Each group is read whole and, when wider
than most digits, also as the parts it falls into when its ink is thinned (which follows the
contact of touching digits where no straight cut does); one classifier call covers the drawing.
Groups still read poorly, and the poorly read parts of thinned groups (three digits in a row,
thinning parting only the thinner contact), then get candidate cuts, chosen by dynamic
programming in a second call. A cut is a seam: the least-ink path from top to bottom near the
thinnest column of each short step, bending a little where that spares ink (slanted digits touch
at an angle no column follows). It pays for the ink it goes through, and leaves no piece narrower
than a stroke (a slice of a thick stroke reads as a confident 1).

A classifier of lone digits reads two touching digits as one with near certainty ("11" as a 4), and
the halves of a lone digit drawn in two strokes as two confident digits. Given a detector of
touching digits (`digits.touching`), every group, thinned part and candidate piece is also judged
by how likely it is to hold several digits: reading one whole adds the log probability of one
digit, splitting it the log probability of several (both times TOUCHING_WEIGHT); and a group wider
than MAX_DIGIT_RATIO may then stay whole (a sprawling 6 or 5 does exist), if the detector says so.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from digits.preprocess import INK_MASK_LEVEL, EmptyImageError, ImageInput, PreprocessError, extract_ink, normalize_ink

Classifier = Callable[[np.ndarray], np.ndarray]  # (n, 28, 28) float32 -> (n, 10) probabilities
# (n, 28, 28) inputs and (n, SHAPE_FACTS) shape facts (`_Crop.shape_facts`) -> (n,) probability that
# each holds several touching digits (see `digits.touching`)
TouchingDetector = Callable[[np.ndarray, np.ndarray], np.ndarray]
SHAPE_FACTS = 4  # numbers per group in `_Crop.shape_facts`

MAX_DIGITS = 32
SPECK_FRACTION = 0.1  # a component whose longest side is under this share of the tallest one is noise
OVERLAP_FRACTION = 0.5  # components sharing this share of the narrower one's columns are one digit
PART_FRACTION = 0.75  # a component shorter than this share of the tallest one may be part of a digit...
NEAR_FRACTION = 0.2  # ...and joins the nearest taller one when closer than this share of the tallest
STRAY_FRACTION = 1 / 3  # a stroke this small (share of the tallest) that joined no digit is a stray mark
MAX_COMPONENTS = 512  # more candidate strokes than this is a scribble, not a number
SPLIT_RATIO = 1.45  # width/height above which, without a classifier, a piece is taken for touching digits
CONSIDER_RATIO = 0.8  # with a classifier, pieces wider than this are also read as their thinned parts
MAX_DIGIT_RATIO = 1.7  # no single digit is wider than this (MNIST's widest are about 1.5), unless a detector says so
DIGIT_RATIO = 0.75  # a typical digit's width/height (MNIST's median), sets how many digits touch
MIN_PIECE_FRACTION = 0.06  # narrowest piece a cut may leave, as a share of the height
MIN_PIECE_HEIGHT = 0.7  # a piece shorter than this share of its group's (or other digits') height is a fragment
MIN_PIECE_PENS = 0.8  # a piece narrower than this share of the pen width is a slice of a stroke, not a 1
SPLIT_COST = 0.15  # log-odds a cut must win by: confident classifiers read fragments confidently too...
THICK_COST = 0.2  # ...and more for each pen width of ink the cut goes through beyond one (digits touch thinly)
# Width/height of each digit class in MNIST's training set, 1st and 99th percentiles (but a 1 drawn
# as one thin pen stroke may be narrower than MNIST's): a piece read as a 4 but shaped like a sliver
# is a fragment. Outside its range a reading loses ASPECT_COST per unit of log ratio.
ASPECT_RANGE = np.array(
    [(0.55, 1.43), (0.05, 1.0), (0.6, 1.67), (0.5, 1.25), (0.5, 1.25), (0.5, 1.67), (0.45, 1.11), (0.5, 1.25),
     (0.45, 1.25), (0.4, 1.05)]
)  # fmt: skip
ASPECT_COST = 6.0
WIDEST_DIGIT = 1.4  # no digit is wider than this share of the height of the number's other digits...
WIDE_COST = 2.0  # ...and a piece that is loses this much plausibility per unit of log ratio beyond it
CUT_STEP_FRACTION = 0.12  # candidate cuts: the thinnest column in each step of this share of the height
THINNED_BONUS = 0.5  # log-odds by which parts of thinned ink may read worse than the whole and still win
THINNING_LEVELS = (0.3, 0.5, 0.7)  # stronger ink levels tried when looking for touching digits' cores
SEAM_ROWS = 32  # seams are found on a grid about this many rows high
SEAM_BAND = 0.1  # a seam strays at most this share of the height from its centre column...
SEAM_BEND = 2.0  # ...and steps sideways only to spare more than this many pixels of ink per step
TOUCHING_WEIGHT = 0.5  # how much the touching-digits detector's log probabilities count
MIN_PROBABILITY = 1e-4  # the detector's answers are clipped to this much doubt
EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


class TooManyDigitsError(PreprocessError):
    code = "too_many_digits"


@dataclass(frozen=True)
class DigitPiece:
    """One digit of the drawing: its box (x, y, w, h) in the original pixels and its 28x28 input."""

    box: tuple[int, int, int, int]
    image: np.ndarray


class Prior(NamedTuple):
    """TOUCHING_WEIGHT times the detector's log probability that a crop is one digit, and several."""

    whole: float
    split: float


@dataclass(frozen=True)
class _Group:
    """Components taken for one digit (or for touching digits, until they are cut)."""

    labels: np.ndarray  # component label ids
    top: int
    left: int
    bottom: int
    right: int


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
    crops = _group_crops(image, max_digits)
    if classify is None:
        pieces = [piece for crop in crops for piece in crop.pieces(crop.thinnest_cuts())]
    else:
        pieces = _read_best(crops, classify, touching)
    if len(pieces) > max_digits:
        raise _too_many(len(pieces), max_digits)
    return pieces


def whole_groups(image: ImageInput, *, max_digits: int = MAX_DIGITS) -> tuple[list[DigitPiece], np.ndarray]:
    """The drawing's groups of strokes left to right, each whole (before any cut), with their shape
    facts (see `_Crop.shape_facts`): what a detector of touching digits learns from and judges."""
    crops = _group_crops(image, max_digits)
    return [crop.whole() for crop in crops], np.array([crop.shape_facts() for crop in crops])


def _group_crops(image: ImageInput, max_digits: int) -> list[_Crop]:
    """Connected ink, specks dropped and strokes merged into groups, left to right."""
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
    references = _reference_heights(groups)
    return [_Crop.of(group, labels, ink, reference) for group, reference in zip(groups, references, strict=True)]


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


def _reference_heights(groups: list[_Group]) -> list[float]:
    """For each group, the median height of the others: the digits of one number are about as tall as
    each other, while a group of touching digits drawn at different heights is taller than either.
    Infinite for a lone group."""
    heights = np.array([group.bottom - group.top for group in groups], dtype=float)
    if len(groups) == 1:
        return [np.inf]
    return [float(np.median(np.delete(heights, k))) for k in range(len(groups))]


def _union(groups: list[_Group]) -> _Group:
    return _Group(
        np.concatenate([g.labels for g in groups]),
        min(g.top for g in groups),
        min(g.left for g in groups),
        max(g.bottom for g in groups),
        max(g.right for g in groups),
    )


@dataclass
class _Reading:
    """How one group reads so far: its thinned parts with their plausibility, and the best choice
    of pieces with its score."""

    crop: _Crop
    parts: list[_Crop]
    part_pieces: list[DigitPiece]
    part_scores: list[float]
    score: float
    pieces: list[DigitPiece]
    prior: Prior  # what the detector of touching digits says of the group...
    part_priors: list[Prior]  # ...and of each thinned part


def _read_best(crops: list[_Crop], classify: Classifier, touching: TouchingDetector | None) -> list[DigitPiece]:
    """Read each group whole and, when wide, as the parts its thinned ink falls into (one classifier
    call); then search cuts (a second call) only where a cut could still score higher."""
    readings = _read_whole_or_thinned(crops, classify, touching)
    _search_cuts([reading for reading in readings if reading.score < -SPLIT_COST], classify, touching)
    pieces = []
    for reading in readings:
        crop = reading.crop
        pieces.extend(reading.pieces if np.isfinite(reading.score) else crop.pieces(crop.thinnest_cuts()))
    return pieces


def _read_whole_or_thinned(
    crops: list[_Crop], classify: Classifier, touching: TouchingDetector | None
) -> list[_Reading]:
    """Each group read whole, or as its thinned parts when they read about as well: ink that falls
    apart when thinned is evidence of touching digits, so that split pays no cut cost and wins
    within THINNED_BONUS (a confident classifier reads blobs confidently). A detector of touching
    digits adds its log probability of one digit to the whole, and of several to any split, for
    groups and thinned parts alike (a thinned part may still hold two digits)."""
    wholes = [crop.whole() for crop in crops]
    thinned = [crop.eroded_parts() if crop.ratio > CONSIDER_RATIO else [] for crop in crops]
    part_pieces = [[part.whole() for part in parts] for parts in thinned]
    priors = _touching_priors([*crops, *itertools.chain(*thinned)], [*wholes, *itertools.chain(*part_pieces)], touching)
    part_priors = iter(priors[len(crops) :])
    widest = [crop.widest for crop in itertools.chain(crops, *thinned)]
    scores = iter(_read(classify, [*wholes, *itertools.chain.from_iterable(part_pieces)], widest))
    whole_scores = [float(next(scores)) for _ in crops]
    readings = []
    for crop, whole, score, parts, pieces, prior in zip(
        crops, wholes, whole_scores, thinned, part_pieces, priors[: len(crops)], strict=True
    ):
        own_priors = [next(part_priors) for _ in parts]
        part_scores = [float(next(scores)) + part_prior.whole for part_prior in own_priors]
        whole_score = score + prior.whole if crop.ratio <= MAX_DIGIT_RATIO or touching else -np.inf
        reading = _Reading(crop, parts, pieces, part_scores, whole_score, [whole], prior, own_priors)
        if parts and sum(part_scores) + prior.split + THINNED_BONUS >= reading.score:
            reading.score, reading.pieces = sum(part_scores) + prior.split, pieces
        readings.append(reading)
    return readings


def _touching_priors(crops: list[_Crop], wholes: list[DigitPiece], touching: TouchingDetector | None) -> list[Prior]:
    """For each crop, what the detector says of it; nothing either way without a detector."""
    if touching is None or not crops:
        return [Prior(0.0, 0.0)] * len(crops)
    facts = np.array([crop.shape_facts() for crop in crops])
    several = np.clip(
        touching(np.stack([whole.image for whole in wholes]), facts), MIN_PROBABILITY, 1 - MIN_PROBABILITY
    )
    return [Prior(TOUCHING_WEIGHT * float(np.log1p(-p)), TOUCHING_WEIGHT * float(np.log(p))) for p in several]


def _search_cuts(readings: list[_Reading], classify: Classifier, touching: TouchingDetector | None) -> None:
    """Cut the groups read poorly, and the poorly read parts of thinned groups (three digits in a
    row touch, and thinning parts only the thinner contact), keeping a cut that scores higher. The
    detector of touching digits judges every candidate piece too (a piece may hold two digits)."""
    poor_parts = [[j for j, score in enumerate(reading.part_scores) if score < -SPLIT_COST] for reading in readings]
    lattices = [
        [reading.crop.lattice(), *(reading.parts[j].lattice() for j in poor)]
        for reading, poor in zip(readings, poor_parts, strict=True)
    ]
    flat = [lattice for group in lattices for lattice in group]
    widest = [lattice.widest for lattice in flat for _ in lattice.pieces]
    pieces = [piece for lattice in flat for piece in lattice.pieces]
    priors = _touching_priors([crop for lattice in flat for crop in lattice.crops], pieces, touching)
    scores = iter(_read(classify, pieces, widest) + np.array([prior.whole for prior in priors]))
    for reading, poor, (lattice, *part_lattices) in zip(readings, poor_parts, lattices, strict=True):
        cuts = [_best_split(lattice, np.array([next(scores) for _ in lattice.pieces]), reading.prior)]
        parts = [(score, [piece]) for score, piece in zip(reading.part_scores, reading.part_pieces, strict=True)]
        for j, part_lattice in zip(poor, part_lattices, strict=True):
            confidence = np.array([next(scores) for _ in part_lattice.pieces])
            parts[j] = max(parts[j], _best_split(part_lattice, confidence, reading.part_priors[j]), key=lambda r: r[0])
        if parts:
            split = sum(score for score, _ in parts) + reading.prior.split
            cuts.append((split, [piece for _, read in parts for piece in read]))
        for score, pieces in cuts:
            if score > reading.score:
                reading.score, reading.pieces = score, pieces


def _best_split(lattice: _Lattice, confidence: np.ndarray, prior: Prior) -> tuple[float, list[DigitPiece]]:
    """The lattice's best path, given each piece's `confidence` (the detector's word on it being one
    digit counted in) and the detector's word on the whole (`prior`) being several."""
    score, pieces = lattice.best(confidence, -prior.split)
    return score + prior.split, pieces


def _read(classify: Classifier, pieces: list[DigitPiece], widest: list[float]) -> np.ndarray:
    """Plausibility of each piece as a digit (see `_plausibility`), less WIDE_COST per unit of log
    ratio by which it is wider than `widest` allows."""
    if not pieces:
        return np.zeros(0)
    aspect = np.array([piece.box[2] / piece.box[3] for piece in pieces])
    too_wide = np.log(np.maximum(np.array([piece.box[2] for piece in pieces]) / np.array(widest), 1.0))
    return _plausibility(classify(np.stack([piece.image for piece in pieces])), aspect) - WIDE_COST * too_wide


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

    @classmethod
    def of(cls, group: _Group, labels: np.ndarray, ink: np.ndarray, reference: float) -> _Crop:
        window = np.s_[group.top : group.bottom, group.left : group.right]
        mask = np.isin(labels[window], group.labels)
        return cls(np.where(mask, ink[window], 0.0).astype(np.float32), mask, group.left, group.top, reference)

    def piece(self, start: int, stop: int) -> DigitPiece | None:
        """The ink between two columns, trimmed and normalized; None when there is none."""
        mask = np.zeros_like(self.mask)
        mask[:, start:stop] = self.mask[:, start:stop]
        part = self.part(mask)
        return None if part is None else part.whole()

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
        """Candidate pieces between candidate cuts (seams bending around the thinnest column in each
        short step), each tall and at least a pen wide; spans holding the same ink share one piece."""
        projection = self.mask.sum(axis=0)
        margin = max(1, round(MIN_PIECE_FRACTION * self.height))
        step = max(1, round(CUT_STEP_FRACTION * self.height))
        centers = [0]
        for low in range(margin, self.width - margin, step):
            cut = low + int(projection[low : min(low + step, self.width - margin + 1)].argmin())
            if cut - centers[-1] >= margin:
                centers.append(cut)
        seams, crossed = self.seams(np.array(centers[1:], dtype=int))
        seams, first = np.unique(seams, axis=0, return_index=True)
        order = np.argsort(seams.mean(axis=1), kind="stable")
        edges = [np.zeros(self.height, dtype=int), *seams[order], np.full(self.height, self.width)]
        pen = self.pen_width()
        thickness = np.concatenate([[0.0], crossed[first][order]]) / pen
        cut_cost = SPLIT_COST + THICK_COST * np.maximum(thickness - 1.0, 0.0)
        cut_cost[0] = 0.0
        x = np.arange(self.width)[None]
        spans, readings, pieces, parts = [], [], [], []
        seen: dict[tuple[int, int, int, int, int], int] = {}
        for i in range(len(edges)):
            for j in range(i + 1, len(edges)):
                if np.median(edges[j] - edges[i]) > MAX_DIGIT_RATIO * self.height:
                    break
                part = self.part(self.mask & (x >= edges[i][:, None]) & (x < edges[j][:, None]))
                if part is None or part.height < self.shortest or part.width < MIN_PIECE_PENS * pen:
                    continue
                key = (part.x, part.y, part.width, part.height, int(part.mask.sum()))
                if key not in seen:
                    seen[key] = len(pieces)
                    pieces.append(part.whole())
                    parts.append(part)
                spans.append((i, j))
                readings.append(seen[key])
        return _Lattice(cut_cost, spans, readings, pieces, parts, self.widest)

    def seams(self, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Least-ink cuts from top to bottom, each free to bend within SEAM_BAND of the height either
        side of its centre column (digits touch at an angle, or interlock, where no column parts
        them). Dynamic programming on a grid of about SEAM_ROWS rows, for speed. Per seam: the first
        column right of the cut in every row, and the ink crossed in pixels (as a column's
        projection counts it)."""
        scale = -(-self.height // SEAM_ROWS)
        rows, cols = -(-self.height // scale), -(-self.width // scale)
        padded = np.zeros((rows * scale, cols * scale), dtype=np.float32)
        padded[: self.height, : self.width] = self.mask
        ink = padded.reshape(rows, scale, cols, scale).sum(axis=(1, 3)) / scale  # per grid cell, as columns count
        band = max(1, round(SEAM_BAND * self.height / scale))
        columns = np.clip(centers[:, None] // scale + np.arange(-band, band + 1), 0, cols - 1)
        cost = ink[:, columns]  # (rows, seams, positions)
        total, moves = cost[0], np.zeros(cost.shape, dtype=np.int8)  # least ink to reach each cell, and from where
        wall = np.full((len(centers), 1), np.inf, dtype=np.float32)
        for y in range(1, rows):
            options = np.stack(
                [np.hstack([wall, total[:, :-1]]) + SEAM_BEND, total, np.hstack([total[:, 1:], wall]) + SEAM_BEND]
            )
            step = options.argmin(axis=0)
            moves[y] = step - 1
            total = cost[y] + np.take_along_axis(options, step[None], axis=0)[0]
        position = total.argmin(axis=1)  # walk back up from the cheapest end of each seam
        crossed = np.zeros(len(centers), dtype=np.float32)
        path = np.empty((rows, len(centers)), dtype=np.int64)
        seam = np.arange(len(centers))
        for y in range(rows - 1, -1, -1):
            path[y] = columns[seam, position]
            crossed += cost[y, seam, position]
            position = position + moves[y, seam, position]
        cuts = np.repeat(path * scale + scale // 2, scale, axis=0)[: self.height].T
        return np.minimum(cuts, self.width), crossed

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

    def eroded_parts(self) -> list[_Crop]:
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
            tall = [k + 1 for k, s in enumerate(ndimage.find_objects(cores)) if s[0].stop - s[0].start >= self.shortest]
            if len(tall) >= 2:
                seeds = np.where(np.isin(cores, tall), cores, 0)
                nearest = ndimage.distance_transform_edt(seeds == 0, return_distances=False, return_indices=True)
                owner = np.where(self.mask, seeds[tuple(nearest)], 0)
                found = (self.part(owner == k) for k in tall)
                return sorted((part for part in found if part is not None), key=lambda part: part.x)
        return []

    def part(self, mask: np.ndarray) -> _Crop | None:
        """The ink under `mask` (a part of this crop) as a crop of its own, trimmed to it; None when
        there is none."""
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if rows.size == 0:
            return None
        window = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        own = mask[window]
        x, y = self.x + int(cols[0]), self.y + int(rows[0])
        return _Crop(np.where(own, self.ink[window], np.float32(0.0)), own, x, y, self.reference)

    def whole(self) -> DigitPiece:
        """All of this crop's ink as one digit, normalized."""
        box = (int(self.x), int(self.y), self.width, self.height)
        return DigitPiece(box=box, image=normalize_ink(self.ink))


@dataclass(frozen=True)
class _Lattice:
    """Ways to cut one group: pieces spanning candidate cut i to cut j."""

    cut_cost: np.ndarray  # what cutting at each edge costs (nothing at the first)
    spans: list[tuple[int, int]]
    readings: list[int]  # for each span, its piece (spans holding the same ink share one)
    pieces: list[DigitPiece]
    crops: list[_Crop]  # each piece's ink
    widest: float  # the widest plausible digit (see `_Crop.widest`)

    def best(self, confidence: np.ndarray, whole_bonus: float = 0.0) -> tuple[float, list[DigitPiece]]:
        """The path of pieces from the first edge to the last with the highest total plausibility
        (`confidence`, one per piece) less a cost per cut, plus `whole_bonus` for the path of one
        piece, with its score (-inf and no pieces when none exists)."""
        best: list[tuple[float, list[DigitPiece]]] = [(0.0, [])] + [(-np.inf, [])] * len(self.cut_cost)
        order = sorted(range(len(self.spans)), key=lambda k: self.spans[k][1])
        whole = (0, len(self.cut_cost))
        for k in order:
            (i, j), reading = self.spans[k], self.readings[k]
            score = best[i][0] + confidence[reading] - self.cut_cost[i] + (whole_bonus if (i, j) == whole else 0.0)
            if score > best[j][0]:
                best[j] = (score, [*best[i][1], self.pieces[reading]])
        return best[-1]
