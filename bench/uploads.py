"""What the benchmarks upload: the project's drawings encoded the way a browser sends them."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from digits.data import Mnist
from digits.synthetic import render_canvas_digit


def as_browser_canvas(png: bytes) -> bytes:
    """The picture as the page's `canvas.toBlob("image/png")` sends it: an opaque RGBA PNG (the page
    paints the canvas white before drawing). Four bytes a pixel decode ~4x slower than grey ones."""
    buffer = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGBA").save(buffer, "PNG")
    return buffer.getvalue()


def canvas_digit_upload(mnist: Mnist, rng: np.random.Generator) -> bytes:
    """The benchmarks' one digit: the first MNIST test digit drawn on a 280x280 canvas, as a browser sends it."""
    return as_browser_canvas(render_canvas_digit(mnist.x_test[0], rng))
