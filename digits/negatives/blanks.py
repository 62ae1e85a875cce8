"""Noisy blanks: a canvas with nothing drawn but paper grain, sensor noise, and a few specks or a
smudge, as a photo of an empty page or a stray touch gives. Many are refused by the
preprocessing as `empty_image`; the ones that pass reach the model as blobs and grain."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from digits.synthetic import CANVAS_SIZE, paint_png


def draw(rng: np.random.Generator, *, size: int = CANVAS_SIZE) -> bytes:
    """One noisy blank, PNG bytes."""
    canvas = np.abs(rng.normal(0.0, float(rng.uniform(0.02, 0.12)), size=(size, size)))
    grain = float(rng.uniform(0.5, 4.0))
    canvas = ndimage.gaussian_filter(canvas, grain) * grain  # paper texture, not pixel noise only
    for _ in range(int(rng.integers(0, 6))):  # specks and smudges
        radius = float(rng.uniform(2, 14))
        y, x = rng.uniform(0, size, size=2)
        rows, cols = np.ogrid[:size, :size]
        spot = np.exp(-((rows - y) ** 2 + (cols - x) ** 2) / (2 * radius**2))
        canvas += float(rng.uniform(0.2, 0.9)) * spot
    return paint_png(np.clip(canvas, 0.0, 1.0), rng)
