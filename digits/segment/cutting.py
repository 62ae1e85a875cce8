"""Cutting a group of strokes into digits: at the thinnest columns (without a classifier), into the
parts its thinned ink falls apart into, or along seams that make a lattice of candidate pieces.

A seam is the least-ink path from top to bottom near the thinnest column of each short step,
bending a little where that spares ink (slanted digits touch at an angle no column follows). It
pays for the ink it goes through, and leaves no piece narrower than a stroke (a slice of a thick
stroke reads as a confident 1).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from digits.preprocess import INK_MASK_LEVEL
from digits.segment.crop import Crop, DigitPiece
from digits.segment.grouping import EIGHT_CONNECTED
from digits.segment.tuning import (
    CUT_STEP_FRACTION,
    DIGIT_RATIO,
    MAX_DIGIT_RATIO,
    MIN_PIECE_FRACTION,
    MIN_PIECE_PENS,
    SEAM_BAND,
    SEAM_BEND,
    SEAM_ROWS,
    SPLIT_COST,
    SPLIT_RATIO,
    THICK_COST,
    THINNING_LEVELS,
)


def thinnest_cuts(crop: Crop) -> list[int]:
    """Without a classifier: as many digits as the width suggests, each cut at the thinnest column
    within a third of a digit's width of where it is expected."""
    if crop.ratio <= SPLIT_RATIO:
        return []
    projection = crop.mask.sum(axis=0)
    count = max(2, round(crop.ratio / DIGIT_RATIO))
    step = crop.width / count
    cuts = []
    for k in range(1, count):
        columns = np.arange(round(k * step - step / 3), round(k * step + step / 3) + 1)
        cost = projection[columns] + np.abs(columns - k * step) / crop.width  # distance only breaks ties
        cuts.append(int(columns[cost.argmin()]))
    return cuts


def thinned_parts(crop: Crop) -> list[Crop]:
    """Touching digits meet at a contact thinner than their strokes: thin the ink until it falls
    apart into tall cores, then give every ink pixel to the nearest core. Thinning first keeps
    only stronger ink (soft strokes, such as scans or scaled-up digits, touch by their faint
    edges), then erodes the mask (never past its strokes). Tall strokes merged only by their
    overlap are such cores before any thinning. Empty when no such cores appear."""
    depth = ndimage.distance_transform_edt(crop.mask)  # eroding by r keeps the pixels deeper than r
    masks = itertools.chain(
        (crop.ink > level for level in (INK_MASK_LEVEL, *THINNING_LEVELS)),
        (depth > r for r in range(1, 1 + max(1, int((crop.pen_width() - 1) // 2)))),
    )
    for mask in masks:
        cores, _ = ndimage.label(mask, structure=EIGHT_CONNECTED)
        tall = [k + 1 for k, s in enumerate(ndimage.find_objects(cores)) if s[0].stop - s[0].start >= crop.shortest]
        if len(tall) >= 2:
            seeds = np.where(np.isin(cores, tall), cores, 0)
            nearest = ndimage.distance_transform_edt(seeds == 0, return_distances=False, return_indices=True)
            owner = np.where(crop.mask, seeds[tuple(nearest)], 0)
            found = (crop.part(owner == k) for k in tall)
            return sorted((part for part in found if part is not None), key=lambda part: part.x)
    return []


@dataclass(frozen=True)
class Lattice:
    """Ways to cut one group: pieces spanning candidate cut i to cut j."""

    cut_cost: np.ndarray  # what cutting at each edge costs (nothing at the first)
    spans: list[tuple[int, int]]
    readings: list[int]  # for each span, its piece (spans holding the same ink share one)
    pieces: list[DigitPiece]
    crops: list[Crop]  # each piece's ink
    widest: float  # the widest plausible digit (see `Crop.widest`)

    def best(self, confidence: np.ndarray, whole_bonus: float = 0.0) -> tuple[float, list[DigitPiece]]:
        """The path of pieces from the first edge to the last with the highest total plausibility
        (`confidence`, one per piece) less a cost per cut, plus `whole_bonus` for the path of one
        piece, with its score (-inf and no pieces when none exists)."""
        none: list[DigitPiece] = []
        best = [(0.0, none)] + [(-np.inf, none)] * len(self.cut_cost)
        order = sorted(range(len(self.spans)), key=lambda k: self.spans[k][1])
        whole = (0, len(self.cut_cost))
        for k in order:
            (i, j), reading = self.spans[k], self.readings[k]
            score = best[i][0] + confidence[reading] - self.cut_cost[i] + (whole_bonus if (i, j) == whole else 0.0)
            if score > best[j][0]:
                best[j] = (score, [*best[i][1], self.pieces[reading]])
        return best[-1]


def lattice(crop: Crop) -> Lattice:
    """Candidate pieces between candidate cuts (seams bending around the thinnest column in each
    short step), each tall and at least a pen wide; spans holding the same ink share one piece."""
    projection = crop.mask.sum(axis=0)
    margin = max(1, round(MIN_PIECE_FRACTION * crop.height))
    step = max(1, round(CUT_STEP_FRACTION * crop.height))
    centers = [0]
    for low in range(margin, crop.width - margin, step):
        cut = low + int(projection[low : min(low + step, crop.width - margin + 1)].argmin())
        if cut - centers[-1] >= margin:
            centers.append(cut)
    cuts, crossed = seams(crop, np.array(centers[1:], dtype=int))
    cuts, first = np.unique(cuts, axis=0, return_index=True)
    order = np.argsort(cuts.mean(axis=1), kind="stable")
    edges = [np.zeros(crop.height, dtype=int), *cuts[order], np.full(crop.height, crop.width)]
    pen = crop.pen_width()
    thickness = np.concatenate([[0.0], crossed[first][order]]) / pen
    cut_cost = SPLIT_COST + THICK_COST * np.maximum(thickness - 1.0, 0.0)
    cut_cost[0] = 0.0
    x = np.arange(crop.width)[None]
    spans: list[tuple[int, int]] = []
    readings: list[int] = []
    pieces: list[DigitPiece] = []
    parts: list[Crop] = []
    seen: dict[tuple[int, int, int, int, int], int] = {}
    for i in range(len(edges)):
        for j in range(i + 1, len(edges)):
            if np.median(edges[j] - edges[i]) > MAX_DIGIT_RATIO * crop.height:
                break
            part = crop.part(crop.mask & (x >= edges[i][:, None]) & (x < edges[j][:, None]))
            if part is None or part.height < crop.shortest or part.width < MIN_PIECE_PENS * pen:
                continue
            key = (part.x, part.y, part.width, part.height, int(part.mask.sum()))
            if key not in seen:
                seen[key] = len(pieces)
                pieces.append(part.whole())
                parts.append(part)
            spans.append((i, j))
            readings.append(seen[key])
    return Lattice(cut_cost, spans, readings, pieces, parts, crop.widest)


def seams(crop: Crop, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-ink cuts from top to bottom, each free to bend within SEAM_BAND of the height either
    side of its centre column (digits touch at an angle, or interlock, where no column parts
    them). Dynamic programming on a grid of about SEAM_ROWS rows, for speed. Per seam: the first
    column right of the cut in every row, and the ink crossed in pixels (as a column's
    projection counts it)."""
    scale = -(-crop.height // SEAM_ROWS)
    rows, cols = -(-crop.height // scale), -(-crop.width // scale)
    padded = np.zeros((rows * scale, cols * scale), dtype=np.float32)
    padded[: crop.height, : crop.width] = crop.mask
    ink = padded.reshape(rows, scale, cols, scale).sum(axis=(1, 3)) / scale  # per grid cell, as columns count
    band = max(1, round(SEAM_BAND * crop.height / scale))
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
    cuts = np.repeat(path * scale + scale // 2, scale, axis=0)[: crop.height].T
    return np.minimum(cuts, crop.width), crossed
