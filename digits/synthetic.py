"""Drawings the project makes itself to measure what MNIST test accuracy cannot: MNIST **test**
digits re-drawn the way a canvas shows them (off-centre, at random size, thicker strokes, either
polarity), encoded as PNG so they travel the same path as a browser's upload. `digits.numbers`
lays out whole numbers from the same pieces."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from scipy import ndimage

CANVAS_SIZE = 280


def digit_ink(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 28x28 uint8 MNIST digit as ink 0..1 cropped to itself, sometimes thickened like a canvas pen."""
    ink = np.asarray(digit, dtype=np.float32) / 255.0
    if rng.random() < 0.6:
        ink = ndimage.grey_dilation(ink, size=(2, 2))
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def scale_ink(ink: np.ndarray, height: float, width: int | None = None) -> np.ndarray:
    """Resize ink to `height` pixels (and `width`, else keeping aspect), anti-aliased."""
    size = (width or max(1, round(ink.shape[1] * height / ink.shape[0])), max(1, round(height)))
    return np.clip(np.asarray(Image.fromarray(ink, mode="F").resize(size, Image.Resampling.BILINEAR)), 0.0, 1.0)


def paint_png(canvas: np.ndarray, rng: np.random.Generator) -> bytes:
    """Ink 0..1 to a PNG in a random polarity with a slightly off-white (or off-black) paper and pen."""
    dark_on_light = rng.random() < 0.5
    paper = float(rng.uniform(0.85, 1.0)) if dark_on_light else float(rng.uniform(0.0, 0.15))
    pen = float(rng.uniform(0.0, 0.15)) if dark_on_light else float(rng.uniform(0.85, 1.0))
    buffer = io.BytesIO()
    Image.fromarray(np.round((paper + (pen - paper) * canvas) * 255).astype(np.uint8), mode="L").save(buffer, "PNG")
    return buffer.getvalue()


def render_canvas_digit(digit: np.ndarray, rng: np.random.Generator, *, size: int = CANVAS_SIZE) -> bytes:
    """Draw one 28x28 uint8 MNIST digit onto a size x size canvas and return it as PNG bytes."""
    ink = digit_ink(digit, rng)
    height = int(rng.integers(int(size * 0.3), int(size * 0.85)))
    width = max(1, round(ink.shape[1] * height / ink.shape[0]))
    if width > size - 4:
        width, height = size - 4, max(1, round(ink.shape[0] * (size - 4) / ink.shape[1]))
    return paste_on_canvas(scale_ink(ink, height, width), rng, size=size)


def paste_on_canvas(scaled: np.ndarray, rng: np.random.Generator, *, size: int = CANVAS_SIZE) -> bytes:
    """Ink 0..1, already at its drawn size, put at a random place on a blank canvas and painted as PNG."""
    height, width = scaled.shape
    top = int(rng.integers(0, size - height + 1))
    left = int(rng.integers(0, size - width + 1))
    canvas = np.zeros((size, size), dtype=np.float32)
    canvas[top : top + height, left : left + width] = scaled
    return paint_png(canvas, rng)


def canvas_digit_set(
    images: np.ndarray, labels: np.ndarray, *, count: int, seed: int = 0
) -> tuple[list[bytes], np.ndarray]:
    """`count` canvas-like PNGs drawn from the first `count` of the given (test) digits."""
    rng = np.random.default_rng(seed)
    count = min(count, len(images))
    return [render_canvas_digit(images[i], rng) for i in range(count)], np.asarray(labels[:count])


def canvas_digit_inputs(images: np.ndarray, labels: np.ndarray, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Canvas drawings of the given digits through the shared preprocessing, exactly as an upload:
    float32 (n, 28, 28) inputs and their labels."""
    from digits.preprocess import normalize_digit_image

    drawings, labels = canvas_digit_set(images, labels, count=len(images), seed=seed)
    inputs = np.array([normalize_digit_image(png) for png in drawings], dtype=np.float32)
    return inputs.reshape(len(drawings), 28, 28), labels
