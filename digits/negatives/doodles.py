"""Procedural doodles: what people draw when they test a digit recognizer with something else.
Spirals, zigzags, waves, crosses, stars, ticks, boxes, hatching, faces, arrows, scribbles, crossed
circles and filled blots, each with random proportions, drawn with the shared pen.

Shapes a person reads as a digit are never produced: no plain circle or ellipse (a 0), no lone
straight stroke steeper than 35 degrees (a 1), no zigzag of fewer than three teeth (an N, Z or 2),
no spiral of less than one and a half turns (a 6 or a 9)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np

from digits.negatives.pen import Stroke, arc, draw_strokes

Shape = Callable[[np.random.Generator], list[Stroke]]


def spiral(rng: np.random.Generator) -> list[Stroke]:
    turns = float(rng.uniform(1.5, 3.5))
    t = np.linspace(0, 2 * math.pi * turns, int(60 * turns))
    radius = 0.05 + 0.45 * t / t[-1]
    direction = 1 if rng.random() < 0.5 else -1
    return [[(0.5 + r * math.cos(a), 0.5 + direction * r * math.sin(a)) for r, a in zip(radius, t, strict=True)]]


def zigzag(rng: np.random.Generator) -> list[Stroke]:
    teeth = int(rng.integers(3, 7))
    height = float(rng.uniform(0.25, 0.7))
    xs = np.linspace(0.0, 1.0, 2 * teeth + 1)
    points = [(float(x), 0.5 + (height / 2 if i % 2 else -height / 2)) for i, x in enumerate(xs)]
    return [[(y, x) for x, y in points]] if rng.random() < 0.3 else [points]  # sometimes upright


def wave(rng: np.random.Generator) -> list[Stroke]:
    periods = float(rng.uniform(1.5, 3.5))
    amplitude = float(rng.uniform(0.1, 0.3))
    xs = np.linspace(0, 1, 80)
    return [[(float(x), 0.5 + amplitude * math.sin(2 * math.pi * periods * x)) for x in xs]]


def cross(rng: np.random.Generator) -> list[Stroke]:
    if rng.random() < 0.5:
        return [[(0.0, 0.0), (1.0, 1.0)], [(1.0, 0.0), (0.0, 1.0)]]
    return [[(0.5, 0.0), (0.5, 1.0)], [(0.0, 0.5), (1.0, 0.5)]]


def star(rng: np.random.Generator) -> list[Stroke]:
    if rng.random() < 0.5:  # the five-pointed star drawn in one stroke
        points = [
            (0.5 + 0.5 * math.sin(4 * math.pi * k / 5), 0.5 - 0.5 * math.cos(4 * math.pi * k / 5)) for k in range(6)
        ]
        return [points]
    arms = int(rng.integers(3, 6))  # an asterisk
    angles = np.linspace(0, math.pi, arms, endpoint=False) + float(rng.uniform(0, math.pi / arms))
    return [
        [(0.5 - 0.5 * math.cos(a), 0.5 - 0.5 * math.sin(a)), (0.5 + 0.5 * math.cos(a), 0.5 + 0.5 * math.sin(a))]
        for a in angles
    ]


def tick(rng: np.random.Generator) -> list[Stroke]:
    knee = float(rng.uniform(0.25, 0.45))
    return [[(0.0, 0.55), (knee, 1.0), (1.0, 0.0)]]


def box(rng: np.random.Generator) -> list[Stroke]:
    """A box at least about as wide as tall: a tall narrow one would be a 0."""
    width = float(rng.uniform(0.95, 1.4))
    square = [(0.0, 0.0), (width, 0.0), (width, 1.0), (0.0, 1.0), (0.0, 0.0)]
    if rng.random() < 0.4:  # a box with its diagonals: an envelope
        return [square, [(0.0, 0.0), (width, 1.0)], [(width, 0.0), (0.0, 1.0)]]
    return [square]


def hatching(rng: np.random.Generator) -> list[Stroke]:
    lines = int(rng.integers(3, 7))
    slope = float(rng.uniform(-0.6, 0.6))
    strokes = [[(0.0, y), (1.0, y + slope)] for y in np.linspace(0, 1, lines)]
    if rng.random() < 0.4:  # cross-hatched
        strokes += [[(x, 0.0), (x - slope, 1.0)] for x in np.linspace(0, 1, lines)]
    return strokes


def face(rng: np.random.Generator) -> list[Stroke]:
    smile = float(rng.uniform(-0.15, 0.15))
    eyes = [arc(x, 0.38, 0.04, 0.04, 0, 2 * math.pi, 8) for x in (0.35, 0.65)]
    mouth = [(0.3, 0.65), (0.5, 0.7 + smile), (0.7, 0.65)]
    return [arc(0.5, 0.5, 0.5, 0.5, 0, 2 * math.pi, 40), *eyes, mouth]


def arrow(rng: np.random.Generator) -> list[Stroke]:
    angle = float(rng.uniform(0, 2 * math.pi))
    dx, dy = math.cos(angle), math.sin(angle)
    tip = (0.5 + 0.5 * dx, 0.5 + 0.5 * dy)
    head = [(tip[0] - 0.3 * math.cos(angle + s), tip[1] - 0.3 * math.sin(angle + s)) for s in (0.5, -0.5)]
    return [[(0.5 - 0.5 * dx, 0.5 - 0.5 * dy), tip], [head[0], tip, head[1]]]


def scribble(rng: np.random.Generator) -> list[Stroke]:
    """A tangle: a smoothed random walk that doubles back on itself."""
    points = rng.uniform(0.0, 1.0, size=(int(rng.integers(7, 14)), 2))
    dense = np.concatenate([np.linspace(a, b, 6, endpoint=False) for a, b in itertools.pairwise(points)])
    kernel = np.ones(5) / 5
    smooth = np.stack([np.convolve(dense[:, i], kernel, mode="valid") for i in range(2)], axis=1)
    return [[(float(x), float(y)) for x, y in smooth]]


def crossed_circle(rng: np.random.Generator) -> list[Stroke]:
    ring = arc(0.5, 0.5, 0.5, 0.5, 0, 2 * math.pi, 40)
    r = 0.5 / math.sqrt(2) if rng.random() < 0.5 else 0.5
    if r == 0.5:
        return [ring, [(0.5, 0.0), (0.5, 1.0)], [(0.0, 0.5), (1.0, 0.5)]]
    return [ring, [(0.5 - r, 0.5 - r), (0.5 + r, 0.5 + r)], [(0.5 + r, 0.5 - r), (0.5 - r, 0.5 + r)]]


def dash(rng: np.random.Generator) -> list[Stroke]:
    """A line within 35 degrees of horizontal: any steeper and it is a fair 1."""
    angle = math.radians(float(rng.uniform(-35, 35)))
    dx, dy = 0.5 * math.cos(angle), 0.5 * math.sin(angle)
    return [[(0.5 - dx, 0.5 - dy), (0.5 + dx, 0.5 + dy)]]


def blot(rng: np.random.Generator) -> list[Stroke]:
    """An irregular polygon, drawn filled (the first stroke is filled by `draw`)."""
    count = int(rng.integers(5, 10))
    angles = np.sort(rng.uniform(0, 2 * math.pi, size=count))
    radii = rng.uniform(0.3, 0.5, size=count)
    ring = [(0.5 + r * math.cos(a), 0.5 + r * math.sin(a)) for a, r in zip(angles, radii, strict=True)]
    return [[*ring, ring[0]]]


SHAPES: dict[str, Shape] = {
    "spiral": spiral,
    "zigzag": zigzag,
    "wave": wave,
    "cross": cross,
    "star": star,
    "tick": tick,
    "box": box,
    "hatching": hatching,
    "face": face,
    "arrow": arrow,
    "scribble": scribble,
    "crossed_circle": crossed_circle,
    "dash": dash,
    "blot": blot,
}


def draw(rng: np.random.Generator) -> bytes:
    """One doodle of a random kind: PNG bytes."""
    kind = list(SHAPES)[int(rng.integers(len(SHAPES)))]
    return draw_strokes(SHAPES[kind](rng), rng, fill=kind == "blot")
