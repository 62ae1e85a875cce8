"""Grouping strokes: connected ink, noise specks dropped, and the separate strokes of one digit (the
bar of a 4, the flag of a 5, a broken stroke) merged into one group, left to right."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from digits.preprocess import INK_MASK_LEVEL, EmptyImageError, PreprocessError
from digits.segment.crop import Crop
from digits.segment.tuning import (
    MAX_COMPONENTS,
    NEAR_FRACTION,
    OVERLAP_FRACTION,
    PART_FRACTION,
    SPECK_SIDE_FRACTION,
    STRAY_FRACTION,
)

EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


class TooManyDigitsError(PreprocessError):
    code = "too_many_digits"


@dataclass(frozen=True)
class Group:
    """Components taken for one digit (or for touching digits, until they are cut)."""

    labels: np.ndarray  # component label ids
    top: int
    left: int
    bottom: int
    right: int


def group_crops(ink: np.ndarray, max_digits: int) -> list[Crop]:
    """Connected ink, specks dropped and strokes merged into groups, left to right."""
    labels, count = ndimage.label(ink > INK_MASK_LEVEL, structure=EIGHT_CONNECTED)
    if count == 0:
        raise EmptyImageError("The image is blank: no digit was drawn.")
    boxes = np.array([(s[0].start, s[1].start, s[0].stop, s[1].stop) for s in ndimage.find_objects(labels)])
    ids = np.arange(1, count + 1)
    heights, widths = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    keep = np.maximum(heights, widths) >= SPECK_SIDE_FRACTION * heights.max()
    if keep.sum() > max(MAX_COMPONENTS, max_digits):
        raise too_many(int(keep.sum()), max_digits)
    groups = _merge_strokes(boxes[keep], ids[keep])
    tallest = max(group.bottom - group.top for group in groups)
    groups = [g for g in groups if max(g.bottom - g.top, g.right - g.left) >= STRAY_FRACTION * tallest]
    if len(groups) > max_digits:
        raise too_many(len(groups), max_digits)
    groups.sort(key=lambda group: group.left + group.right)
    references = _reference_heights(groups)
    return [_crop_of(group, labels, ink, reference) for group, reference in zip(groups, references, strict=True)]


def too_many(found: int, max_digits: int) -> TooManyDigitsError:
    return TooManyDigitsError(f"Found {found} separate marks; at most {max_digits} digits are read at once.")


def _merge_strokes(boxes: np.ndarray, ids: np.ndarray) -> list[Group]:
    """Union components that overlap strongly in x, or small ones close to a taller one, until stable."""
    groups = [Group(ids[i : i + 1], *boxes[i]) for i in range(len(ids))]
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


def _reference_heights(groups: list[Group]) -> list[float]:
    """For each group, the median height of the others: the digits of one number are about as tall as
    each other, while a group of touching digits drawn at different heights is taller than either.
    Infinite for a lone group."""
    heights = np.array([group.bottom - group.top for group in groups], dtype=float)
    if len(groups) == 1:
        return [np.inf]
    return [float(np.median(np.delete(heights, k))) for k in range(len(groups))]


def _union(groups: list[Group]) -> Group:
    return Group(
        np.concatenate([g.labels for g in groups]),
        min(g.top for g in groups),
        min(g.left for g in groups),
        max(g.bottom for g in groups),
        max(g.right for g in groups),
    )


def _crop_of(group: Group, labels: np.ndarray, ink: np.ndarray, reference: float) -> Crop:
    window = np.s_[group.top : group.bottom, group.left : group.right]
    mask = np.isin(labels[window], group.labels)
    # Faint ink at the strokes' edges (below INK_MASK_LEVEL, so in no component) stays, as
    # `normalize_digit_image` keeps it: a lone digit gets the input `/predict` gives it.
    own = mask | (labels[window] == 0)
    return Crop(np.where(own, ink[window], 0.0).astype(np.float32), mask, group.left, group.top, reference)
