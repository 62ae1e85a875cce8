"""Scoring readings: which way of reading each group (whole, as its thinned parts, or cut along
seams) a classifier, and a detector of touching digits, find most plausible.

A piece's plausibility is the classifier's confidence, less a cost when the piece is not shaped
like the class it is read as, or is wider than the number's other digits are tall (a confident
classifier reads two touching digits as one wide one). Each group is read whole and, when wider
than most digits, also as its thinned parts; one classifier call covers the drawing. Groups still
read poorly, and the poorly read parts of thinned groups, then get candidate cuts, chosen by
dynamic programming in a second call. A detector of touching digits adds, for every group, part
and candidate piece, its log probability of one digit to reading it whole and of several to
splitting it (both times TOUCHING_WEIGHT).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from digits.segment.crop import Classifier, Crop, DigitPiece, TouchingDetector
from digits.segment.cutting import Lattice, lattice, thinned_parts, thinnest_cuts
from digits.segment.tuning import (
    ASPECT_COST,
    ASPECT_RANGE,
    CONSIDER_RATIO,
    MAX_DIGIT_RATIO,
    MIN_PROBABILITY,
    SPLIT_COST,
    THINNED_BONUS,
    TOUCHING_WEIGHT,
    WIDE_COST,
)


class Prior(NamedTuple):
    """TOUCHING_WEIGHT times the detector's log probability that a crop is one digit, and several."""

    whole: float
    split: float


@dataclass
class _Reading:
    """How one group reads so far: its thinned parts with their plausibility, and the best choice
    of pieces with its score."""

    crop: Crop
    parts: list[Crop]
    part_pieces: list[DigitPiece]
    part_scores: list[float]
    score: float
    pieces: list[DigitPiece]
    prior: Prior  # what the detector of touching digits says of the group...
    part_priors: list[Prior]  # ...and of each thinned part


def read_best(crops: list[Crop], classify: Classifier, touching: TouchingDetector | None) -> list[DigitPiece]:
    """Read each group whole and, when wide, as the parts its thinned ink falls into (one classifier
    call); then search cuts (a second call) only where a cut could still score higher."""
    readings = _read_whole_or_thinned(crops, classify, touching)
    _search_cuts([reading for reading in readings if reading.score < -SPLIT_COST], classify, touching)
    pieces = []
    for reading in readings:
        crop = reading.crop
        pieces.extend(reading.pieces if np.isfinite(reading.score) else crop.pieces(thinnest_cuts(crop)))
    return pieces


def _bounds(counts: list[int], start: int = 0) -> list[slice]:
    """Consecutive slices of the given lengths from `start`: where each group's items sit in a flat array."""
    ends = np.cumsum([start, *counts])
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(ends)]


def _read_whole_or_thinned(
    crops: list[Crop], classify: Classifier, touching: TouchingDetector | None
) -> list[_Reading]:
    """Each group read whole, or as its thinned parts when they read about as well: ink that falls
    apart when thinned is evidence of touching digits, so that split pays no cut cost and wins
    within THINNED_BONUS (a confident classifier reads blobs confidently). A detector of touching
    digits adds its log probability of one digit to the whole, and of several to any split, for
    groups and thinned parts alike (a thinned part may still hold two digits)."""
    wholes = [crop.whole() for crop in crops]
    thinned = [thinned_parts(crop) if crop.ratio > CONSIDER_RATIO else [] for crop in crops]
    part_pieces = [[part.whole() for part in parts] for parts in thinned]
    # One flat batch: the groups first, then every group's thinned parts in order.
    flat_crops = [*crops, *itertools.chain.from_iterable(thinned)]
    flat_pieces = [*wholes, *itertools.chain.from_iterable(part_pieces)]
    priors = _touching_priors(flat_crops, flat_pieces, touching)
    scores = _read(classify, flat_pieces, [crop.widest for crop in flat_crops])
    own_parts = _bounds([len(parts) for parts in thinned], start=len(crops))
    readings = []
    for k, (crop, whole, parts, pieces) in enumerate(zip(crops, wholes, thinned, part_pieces, strict=True)):
        prior, own_priors = priors[k], priors[own_parts[k]]
        part_scores = [float(score) + p.whole for score, p in zip(scores[own_parts[k]], own_priors, strict=True)]
        whole_score = float(scores[k]) + prior.whole if crop.ratio <= MAX_DIGIT_RATIO or touching else -np.inf
        reading = _Reading(crop, parts, pieces, part_scores, whole_score, [whole], prior, own_priors)
        if parts and sum(part_scores) + prior.split + THINNED_BONUS >= reading.score:
            reading.score, reading.pieces = sum(part_scores) + prior.split, pieces
        readings.append(reading)
    return readings


def _touching_priors(crops: list[Crop], wholes: list[DigitPiece], touching: TouchingDetector | None) -> list[Prior]:
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
        [lattice(reading.crop), *(lattice(reading.parts[j]) for j in poor)]
        for reading, poor in zip(readings, poor_parts, strict=True)
    ]
    flat = [one for group in lattices for one in group]
    widest = [one.widest for one in flat for _ in one.pieces]
    pieces = [piece for one in flat for piece in one.pieces]
    priors = _touching_priors([crop for one in flat for crop in one.crops], pieces, touching)
    scores = _read(classify, pieces, widest) + np.array([prior.whole for prior in priors])
    own_pieces = _bounds([len(one.pieces) for one in flat])  # where each lattice's pieces sit in `scores`
    first = np.cumsum([0, *(len(group) for group in lattices)])  # where each reading's lattices sit in `flat`
    for k, (reading, poor) in enumerate(zip(readings, poor_parts, strict=True)):
        whole_lattice, *part_lattices = lattices[k]
        cuts = [_best_split(whole_lattice, scores[own_pieces[first[k]]], reading.prior)]
        parts = [(score, [piece]) for score, piece in zip(reading.part_scores, reading.part_pieces, strict=True)]
        for m, (j, part_lattice) in enumerate(zip(poor, part_lattices, strict=True)):
            split = _best_split(part_lattice, scores[own_pieces[first[k] + 1 + m]], reading.part_priors[j])
            parts[j] = max(parts[j], split, key=lambda r: r[0])
        if parts:
            split_score = sum(score for score, _ in parts) + reading.prior.split
            cuts.append((split_score, [piece for _, read in parts for piece in read]))
        for score, chosen in cuts:
            if score > reading.score:
                reading.score, reading.pieces = score, chosen


def _best_split(lattice: Lattice, confidence: np.ndarray, prior: Prior) -> tuple[float, list[DigitPiece]]:
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
