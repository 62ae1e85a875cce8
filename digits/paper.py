"""Photos of pen on paper, made by the project: the kind of picture a phone camera takes of a digit
written on a notepad, for testing that `/predict` and the page read such photos.

Off-white paper with grain, a shadow falling across it (as from a hand or a phone held over the
page), blue-black ink of a ballpoint's width, the slight softness of a camera lens, JPEG-encoded."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from digits.pen_strokes import Stroke, pen_line

PAPER_RGB = (236, 231, 216)
INK_RGB = (32, 40, 92)
SHADOW_DEPTH = 0.45  # the shaded corner keeps this much less light than the lit one


def paper_photo(
    strokes: list[Stroke],
    *,
    size: tuple[int, int] = (1600, 1200),
    digit_height: float = 0.45,
    seed: int = 0,
    quality: int = 82,
) -> bytes:
    """A JPEG photo of `strokes` (fractions of the digit's area) written in the middle of a sheet;
    the digit's area is `digit_height` of the photo's height, square."""
    rng = np.random.default_rng(seed)
    width, height = size
    side = digit_height * height
    left, top = (width - side) / 2 + rng.uniform(-0.1, 0.1) * side, (height - side) / 2
    sheet = Image.new("RGB", size, PAPER_RGB)
    pen = ImageDraw.Draw(sheet)
    line_width = max(2, round(0.07 * side))  # a ballpoint's line, as wide next to the digit as on paper
    for stroke in strokes:
        wobble = rng.normal(0.0, 0.004, size=(len(stroke), 2))
        points = [
            (left + (x + dx) * side, top + (y + dy) * side) for (x, y), (dx, dy) in zip(stroke, wobble, strict=True)
        ]
        pen_line(pen, points, width=line_width, fill=INK_RGB)
    sheet = sheet.filter(ImageFilter.GaussianBlur(radius=max(1.0, line_width / 8)))
    pixels = np.asarray(sheet, dtype=np.float32)
    across = np.linspace(0.0, 1.0, width)[None, :] * 0.6 + np.linspace(0.0, 1.0, height)[:, None] * 0.4
    light = 1.0 - SHADOW_DEPTH * across**1.5
    grain = rng.normal(0.0, 4.0, size=(height, width, 1))
    photo = np.clip(pixels * light[..., None] + grain, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(photo, mode="RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
