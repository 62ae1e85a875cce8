"""Ways to draw hand-like stroke paths (`digits.pen_strokes`, in fractions of the drawing area) on the page:
with the mouse (page.mouse), a finger or a pen (Chrome DevTools input events, so the page sees
Pointer Events of type "touch" or "pen")."""

from __future__ import annotations

import itertools

from digits.pen_strokes import DIGITS, Point, Stroke, ellipse

__all__ = ["DIGITS", "draw_with_finger", "draw_with_mouse", "draw_with_pen", "ellipse", "part", "place"]

Box = dict[str, float]


def place(stroke: Stroke, box: Box) -> list[Point]:
    return [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]


def part(box: Box, left: float, width: float) -> Box:
    """A slice of a box, from `left` for `width` (fractions of its width): one digit's place in a number."""
    return {**box, "x": box["x"] + left * box["width"], "width": width * box["width"]}


def draw_with_mouse(page, strokes: list[Stroke], box: Box) -> None:
    for stroke in strokes:
        points = place(stroke, box)
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=6)
        page.mouse.up()


def draw_with_finger(page, strokes: list[Stroke], box: Box) -> None:
    cdp = page.context.new_cdp_session(page)
    for stroke in strokes:
        points = place(stroke, box)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [touch(points[0])]})
        for point in densify(points):
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [touch(point)]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def draw_with_pen(page, strokes: list[Stroke], box: Box) -> None:
    cdp = page.context.new_cdp_session(page)
    for stroke in strokes:
        points = place(stroke, box)
        pen = {"pointerType": "pen", "button": "left", "force": 0.5}
        cdp.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": points[0][0], "y": points[0][1], **pen})
        cdp.send(
            "Input.dispatchMouseEvent",
            {"type": "mousePressed", "x": points[0][0], "y": points[0][1], "clickCount": 1, "buttons": 1, **pen},
        )
        for x, y in densify(points):
            cdp.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y, "buttons": 1, **pen})
        cdp.send(
            "Input.dispatchMouseEvent",
            {"type": "mouseReleased", "x": points[-1][0], "y": points[-1][1], "clickCount": 1, **pen},
        )
    cdp.detach()


def densify(points: list[Point], steps: int = 6) -> list[Point]:
    """Intermediate points along a polyline, as a hand moving across it would report them."""
    return [
        (x0 + (x1 - x0) * step / steps, y0 + (y1 - y0) * step / steps)
        for (x0, y0), (x1, y1) in itertools.pairwise(points)
        for step in range(1, steps + 1)
    ]


def touch(point: Point) -> dict[str, float]:
    return {"x": point[0], "y": point[1], "radiusX": 4, "radiusY": 4, "force": 1, "id": 1}


# Things people draw that are not digits (issue 15): a capital A, an X and a scribble.
NOT_DIGITS: dict[str, list[Stroke]] = {
    "A": [[(0.25, 0.82), (0.5, 0.18), (0.75, 0.82)], [(0.36, 0.56), (0.64, 0.56)]],
    "X": [[(0.28, 0.22), (0.72, 0.8)], [(0.72, 0.22), (0.28, 0.8)]],
    "scribble": [
        [
            (0.2, 0.5),
            (0.35, 0.25),
            (0.45, 0.7),
            (0.55, 0.3),
            (0.62, 0.75),
            (0.72, 0.35),
            (0.8, 0.6),
            (0.6, 0.55),
            (0.4, 0.45),
            (0.25, 0.6),
        ]
    ],
}
