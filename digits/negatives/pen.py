"""Drawing strokes as a person's pen leaves them on the canvas: the shared renderer of the stroke
families (Hershey glyphs, doodles). Strokes are polylines in a unit box; they are jittered, slanted,
placed at a random size and position on a 280x280 canvas, drawn 10-24 px wide with round caps in
either polarity, and returned as PNG bytes, so they reach the model through the same preprocessing
as an upload."""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageDraw

from digits.pen_strokes import Stroke, pen_line
from digits.synthetic import CANVAS_SIZE

PEN_WIDTH = (10, 25)  # px on the 280 px canvas, as the page's pen at its sizes
BOX_SHARE = (0.35, 0.85)  # the drawing's size as a share of the canvas side
JITTER = 0.015  # hand tremor per point, in units of the drawing's size


def fit_unit_box(strokes: list[Stroke]) -> list[Stroke]:
    """Scale and shift strokes so the larger side of their bounding box spans 0..1, centred."""
    points = np.array([p for stroke in strokes for p in stroke], dtype=np.float64)
    low, high = points.min(axis=0), points.max(axis=0)
    scale = max(float((high - low).max()), 1e-9)
    offset = (1.0 - (high - low) / scale) / 2
    return [[(float(x), float(y)) for x, y in (np.asarray(s) - low) / scale + offset] for s in strokes]


def draw_strokes(
    strokes: list[Stroke], rng: np.random.Generator, *, fill: bool = False, size: int = CANVAS_SIZE
) -> bytes:
    """Strokes (unit box, y down) drawn as a person would on the canvas; PNG bytes. `fill` paints
    the first stroke's polygon solid (a blot) before the pen lines."""
    slant = float(rng.uniform(-0.2, 0.2))
    stretch = float(rng.uniform(0.75, 1.25))
    shaped = [[(x * stretch + (0.5 - y) * slant, y) for x, y in stroke] for stroke in strokes]
    shaped = [[(x + rng.normal(0, JITTER), y + rng.normal(0, JITTER)) for x, y in s] for s in fit_unit_box(shaped)]
    box = float(rng.uniform(*BOX_SHARE)) * size
    left, top = (float(rng.uniform(0, size - box)) for _ in range(2))
    pixels = [[(left + x * box, top + y * box) for x, y in stroke] for stroke in shaped]
    dark_on_light = rng.random() < 0.5
    paper, pen = (255, int(rng.integers(0, 40))) if dark_on_light else (0, int(rng.integers(215, 256)))
    canvas = Image.new("L", (size, size), paper)
    draw = ImageDraw.Draw(canvas)
    width = int(rng.integers(*PEN_WIDTH))
    if fill and len(pixels[0]) >= 3:
        draw.polygon(pixels[0], fill=pen)
    for stroke in pixels:
        pen_line(draw, stroke, width=width, fill=pen)
    return png_bytes(canvas)


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, points: int = 24) -> Stroke:
    """Points along an elliptic arc; angles in radians, y down."""
    return [(cx + rx * math.cos(t), cy + ry * math.sin(t)) for t in np.linspace(start, end, points)]
