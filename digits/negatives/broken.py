"""Broken digits: MNIST **training** digits damaged until no person would read them as one digit.
Two different digits overlapped, a digit crossed out with an X, a digit cut into quadrants that
are shuffled, a digit whose halves are torn apart sideways. Drawn onto the canvas as the canvas-like
digits are (`digits.synthetic`), so they reach the model through the same preprocessing.

Cuts that leave a digit are avoided: a 1 is never torn (its halves are 1s), two overlapped digits
are always of different classes, and the torn halves move by at least 40% of the digit's width."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

from digits.synthetic import CANVAS_SIZE, digit_ink, paste_on_canvas, scale_ink

OWN_INK = 1 / 3  # share of an overlapped pair's ink each digit must add on its own
Damage = Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]


def _pick(digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator, *, avoid: tuple[int, ...] = ()) -> int:
    while True:
        index = int(rng.integers(len(digits)))
        if int(labels[index]) not in avoid:
            return index


def overlapped(digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two digits of different classes on top of each other, offset by a fraction of their size,
    each keeping at least a third of the ink of the pair to itself (a 1 drawn inside a 7 is a 7)."""
    while True:
        first = _pick(digits, labels, rng)
        second = _pick(digits, labels, rng, avoid=(int(labels[first]),))
        shift = rng.integers(-8, 9, size=2)
        if abs(int(shift[0])) + abs(int(shift[1])) < 5:
            continue
        moved = np.roll(digits[second], tuple(int(s) for s in shift), axis=(0, 1))
        union = np.maximum(digits[first], moved)
        total = float(union.sum())
        if min(float((union - moved).sum()), float((union - digits[first]).sum())) >= OWN_INK * total:
            return union


def crossed_out(digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A digit struck through with an X from corner to corner (a single stroke would be a 7's bar
    or a 4's, so always two)."""
    image = Image.fromarray(digits[_pick(digits, labels, rng)])
    draw = ImageDraw.Draw(image)
    width = int(rng.integers(2, 4))
    low, high = float(rng.uniform(2, 6)), float(rng.uniform(22, 26))
    draw.line([(low, low), (high, high)], fill=255, width=width)
    draw.line([(high, low), (low, high)], fill=255, width=width)
    return np.asarray(image)


def shuffled(digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The four quadrants of a digit in a random other order, each maybe turned."""
    digit = digits[_pick(digits, labels, rng, avoid=(1,))]
    quarters = [digit[:14, :14], digit[:14, 14:], digit[14:, :14], digit[14:, 14:]]
    order = rng.permutation(4)
    while (order == np.arange(4)).all():
        order = rng.permutation(4)
    turned = [np.rot90(quarters[i], int(rng.integers(4))) for i in order]
    return np.block([[turned[0], turned[1]], [turned[2], turned[3]]])


def torn(digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A digit cut across at mid height, its top half moved sideways by 40-70% of its width."""
    digit = digits[_pick(digits, labels, rng, avoid=(1,))]
    cols = np.flatnonzero(digit.any(axis=0))
    width = int(cols[-1] - cols[0] + 1)
    cut = int(rng.integers(11, 17))
    shift = max(1, math.ceil(width * float(rng.uniform(0.4, 0.7)))) * (1 if rng.random() < 0.5 else -1)
    wide = np.zeros((28, 28 + 2 * abs(shift)), dtype=np.uint8)
    wide[cut:, abs(shift) : abs(shift) + 28] = digit[cut:]
    wide[:cut, abs(shift) + shift : abs(shift) + shift + 28] = digit[:cut]
    return wide


DAMAGES: dict[str, Damage] = {"overlapped": overlapped, "crossed_out": crossed_out, "shuffled": shuffled, "torn": torn}


def drawer(digits: np.ndarray, labels: np.ndarray) -> Callable[[np.random.Generator], bytes]:
    """A `draw(rng) -> PNG` over the given uint8 (n, 28, 28) training digits and their labels."""

    def draw(rng: np.random.Generator) -> bytes:
        damage = DAMAGES[list(DAMAGES)[int(rng.integers(len(DAMAGES)))]]
        return place_on_canvas(damage(digits, labels, rng), rng)

    return draw


def place_on_canvas(image: np.ndarray, rng: np.random.Generator, *, size: int = CANVAS_SIZE) -> bytes:
    """A uint8 white-on-black image drawn at a random size and place on the canvas, as PNG."""
    ink = digit_ink(image, rng)
    scale = float(rng.uniform(0.3, 0.85)) * size / max(ink.shape)
    height, width = max(1, round(ink.shape[0] * scale)), max(1, round(ink.shape[1] * scale))
    return paste_on_canvas(scale_ink(ink, height, width), rng, size=size)
