"""Hand-like pen paths of a few digits, in fractions of the area they are drawn in (x right, y down):
what the browser tests draw with the mouse, a finger or a pen, and what `digits.paper` writes on
paper. Plain data, so a drawing on the page and a photo of paper show the same shapes; and the one
way those and the negative drawings put a stroke down with a round pen."""

from __future__ import annotations

import math
from typing import Any

Point = tuple[float, float]
Stroke = list[Point]


def pen_line(draw: Any, points: Stroke, *, width: float, fill: Any) -> None:
    """A stroke on a PIL `ImageDraw`, with round joints and round caps, as a pen leaves it."""
    if len(points) > 1:
        draw.line(points, fill=fill, width=round(width), joint="curve")
    for x, y in (points[0], points[-1]):
        draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=fill)


def ellipse(cx: float, cy: float, rx: float, ry: float, steps: int = 36) -> Stroke:
    return [
        (cx + rx * math.sin(2 * math.pi * i / steps), cy - ry * math.cos(2 * math.pi * i / steps))
        for i in range(steps + 2)
    ]


DIGITS: dict[str, list[Stroke]] = {
    "0": [ellipse(0.5, 0.5, 0.19, 0.3)],
    "1": [[(0.53, 0.2), (0.52, 0.5), (0.5, 0.8)]],
    "2": [
        [
            (0.3, 0.33),
            (0.34, 0.25),
            (0.42, 0.2),
            (0.52, 0.19),
            (0.61, 0.22),
            (0.67, 0.29),
            (0.67, 0.38),
            (0.61, 0.49),
            (0.5, 0.6),
            (0.39, 0.7),
            (0.3, 0.8),
            (0.42, 0.79),
            (0.56, 0.79),
            (0.72, 0.8),
        ]
    ],
    "4": [[(0.4, 0.2), (0.35, 0.4), (0.3, 0.58), (0.5, 0.58), (0.7, 0.58)], [(0.6, 0.3), (0.6, 0.55), (0.6, 0.82)]],
    "7": [[(0.3, 0.24), (0.5, 0.24), (0.7, 0.24), (0.6, 0.45), (0.5, 0.64), (0.44, 0.8)]],
}
