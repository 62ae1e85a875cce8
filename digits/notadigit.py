"""What a request uses to tell a drawing that is no digit at all: the score and the decision.

    scores = not_a_digit_scores(images, prediction, entry.get("not_a_digit"))  # (n,) 0..1
    flags = scores > DECISION                                                 # the `not_a_digit` answer

`rule` is the model's manifest entry `not_a_digit`, written by `python -m digits.novelty`:
- `{"score": "model", ...}`: the model computes the score itself, as an eleventh output
  (`digits.zoo.keras_models.NotADigitScore`, the default `cnn`), its threshold folded in so that
  0.5 decides;
- `{"thresholds": {signal: value}, "reference": ...}`: a set of signals, each with a threshold,
  for models without such an output; the score is r / (1 + r) with r the largest signal/threshold
  ratio, so it passes 0.5 exactly when some signal passes its threshold;
- None: `DEFAULT_RULE`.
Every signal grows as the input looks less like a digit.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from scipy import ndimage

from digits.arraycodec import decode_array
from digits.config import IMAGE_SIZE, NUM_CLASSES
from digits.runtime import Prediction, entropy

DECISION = 0.5  # a score above this answers `not_a_digit: true`
MODEL_SCORE = "model"  # `rule["score"]` of a model that outputs its own score
DEFAULT_RULE: dict[str, Any] = {"thresholds": {"doubt": 0.65, "aspect": 2.5, "holes": 3}}
"""For a model without a fitted rule: confidence under 35%, ink 2.5 times wider than tall, or more
than three enclosed holes (an MNIST digit has at most two; a broken 8, three)."""

INK_LEVEL = 0.3  # pixel value that counts as ink for the shape signals
SOLID_LEVEL, SOLID_SIZE = 0.5, 5  # ink surviving a 5x5 erosion: pen strokes vanish, filled areas stay
HOLE_STRUCTURE = np.pad(ndimage.generate_binary_structure(2, 1)[None], ((1, 1), (0, 0), (0, 0)))
"""Background regions are 4-connected within one image, never across the images of a batch."""


def not_a_digit_scores(images: np.ndarray, prediction: Prediction, rule: dict[str, Any] | None) -> np.ndarray:
    """(n,) scores in 0..1 for the (n, 28, 28) inputs the model saw; above `DECISION` is "not a digit".

    A signal this prediction cannot give (Monte-Carlo spread from a deterministic model, subspace
    distance without a reference, the model's own score from a file that lacks it) is skipped, or
    the default rule used, rather than failing the request."""
    rule = DEFAULT_RULE if rule is None else rule
    if rule.get("score") == MODEL_SCORE:
        if prediction.not_a_digit_score is not None:
            return np.clip(np.asarray(prediction.not_a_digit_score, dtype=np.float64), 0.0, 1.0)
        rule = DEFAULT_RULE
    thresholds = rule["thresholds"]
    signals = model_signals(prediction)
    if thresholds.keys() - signals.keys():
        signals |= input_signals(images, rule.get("reference"))
    ratio = np.zeros(len(prediction.probabilities))
    for name, threshold in thresholds.items():
        if name in signals:
            limit = float(threshold)
            if limit > 0:
                ratio = np.maximum(ratio, signals[name] / limit)
            else:  # a threshold at or below zero: past it is as far past as can be
                ratio = np.where(signals[name] > limit, np.inf, ratio)
    return np.where(np.isinf(ratio), 1.0, ratio / (1.0 + np.where(np.isinf(ratio), 0.0, ratio)))


def predictive_entropy(prediction: Prediction) -> np.ndarray:
    """Entropy (nats) of the mean probabilities: the Monte-Carlo one when the model gives it."""
    if prediction.predictive_entropy is not None:
        return np.asarray(prediction.predictive_entropy, dtype=np.float64)
    return entropy(np.asarray(prediction.probabilities, dtype=np.float64))


def model_signals(prediction: Prediction) -> dict[str, np.ndarray]:
    """What the model says: doubt (1 - confidence), entropy, and for models that sample, the
    Monte-Carlo spread of the winning class."""
    probabilities = np.asarray(prediction.probabilities, dtype=np.float64)
    signals = {"doubt": 1.0 - probabilities.max(axis=1), "entropy": predictive_entropy(prediction)}
    if prediction.std is not None:
        winner = probabilities.argmax(axis=1)
        signals["mc_std"] = np.asarray(prediction.std, dtype=np.float64)[np.arange(len(winner)), winner]
    return signals


def shape_signals(images: np.ndarray) -> dict[str, np.ndarray]:
    """Model-free facts MNIST digits keep within narrow bounds: how much wider than tall the ink is,
    how many holes it encloses, how many pixels lie inside a filled area rather than on a stroke."""
    batch = np.asarray(images).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    ink = batch > INK_LEVEL
    return {
        "aspect": _extent(ink, axis=1) / np.maximum(_extent(ink, axis=2), 1),
        "holes": _holes(ink),
        "solid": _solid(batch),
    }


def input_signals(images: np.ndarray, reference: dict[str, Any] | None) -> dict[str, np.ndarray]:
    """The model-independent signals; `subspace` only when a reference is given."""
    signals = shape_signals(images)
    if reference is not None:
        signals["subspace"] = subspace_distance(images, reference)
    return signals


def _extent(ink: np.ndarray, *, axis: int) -> np.ndarray:
    """Width (axis=1: over rows) or height (axis=2: over columns) of each image's ink, in pixels."""
    present: np.ndarray = np.asarray(ink.any(axis=axis))
    first = present.argmax(axis=1)
    last = IMAGE_SIZE - 1 - present[:, ::-1].argmax(axis=1)
    return np.where(present.any(axis=1), last - first + 1, 0).astype(np.float64)


def _holes(ink: np.ndarray) -> np.ndarray:
    """Background regions of two or more pixels that do not touch the image border, per image."""
    labels, count = ndimage.label(~ink, structure=HOLE_STRUCTURE)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    touches = np.zeros(count + 1, dtype=bool)
    for edge in (labels[:, 0], labels[:, -1], labels[:, :, 0], labels[:, :, -1]):
        touches[edge.ravel()] = True
    owner = np.zeros(count + 1, dtype=np.int64)
    owner[labels.ravel()] = np.repeat(np.arange(len(ink)), IMAGE_SIZE * IMAGE_SIZE)
    holes = (sizes >= 2) & ~touches
    holes[0] = False
    return np.bincount(owner[holes], minlength=len(ink)).astype(np.float64)


def _solid(batch: np.ndarray) -> np.ndarray:
    structure = np.zeros((1, SOLID_SIZE, SOLID_SIZE), dtype=bool)
    structure[0] = True
    return ndimage.binary_erosion(batch > SOLID_LEVEL, structure=structure).sum(axis=(1, 2)).astype(np.float64)


# Each digit class spans a few directions in pixel space: a subspace fitted by PCA on the MNIST
# training digits, pooled to 7x7 (`digits.novelty.fit_reference`). A digit lies close to one of the
# ten; a letter, a dash or a tangle leaves a large share of its energy outside all of them. The cnn's
# own score computes the same distance in Keras ops (`digits.zoo.keras_models.NotADigitScore`).
SUBSPACE_POOL, SUBSPACE_COMPONENTS = 4, 5  # 7x7 pooled inputs, five leading directions per class


def subspace_distance(images: np.ndarray, reference: dict[str, Any]) -> np.ndarray:
    """Smallest share (0..1) of the input's energy that no digit class's subspace explains."""
    pool = int(reference["pool"])
    means, bases = _reference_arrays(reference["means"], reference["bases"], pool, int(reference["components"]))
    pooled = pool_images(images, pool)
    energy = (pooled**2).sum(axis=1) + 1e-9
    centred = pooled[:, None, :] - means[None]  # (images, classes, pixels): all ten classes at once
    residual = centred - np.einsum("nck,ckd->ncd", np.einsum("ncd,ckd->nck", centred, bases), bases)
    return (residual**2).sum(axis=2).min(axis=1) / energy


@functools.lru_cache(maxsize=16)
def _reference_arrays(means: str, bases: str, pool: int, components: int) -> tuple[np.ndarray, np.ndarray]:
    """Decoded once per process and reference, not on every request."""
    size = (IMAGE_SIZE // pool) ** 2
    return (
        decode_array(means).astype(np.float64).reshape(NUM_CLASSES, size),
        decode_array(bases).astype(np.float64).reshape(NUM_CLASSES, components, size),
    )


def pool_images(images: np.ndarray, pool: int) -> np.ndarray:
    """Average `pool` x `pool` blocks: (n, 28, 28) -> (n, (28 / pool) ** 2)."""
    side = IMAGE_SIZE // pool
    batch = np.asarray(images, dtype=np.float64).reshape(-1, side, pool, side, pool)
    return batch.mean(axis=(2, 4)).reshape(len(batch), side * side)
