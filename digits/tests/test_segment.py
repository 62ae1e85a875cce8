"""Segmentation on drawings with known boxes, drawn with PIL the way strokes land on the canvas."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageOps
from scipy import ndimage

from digits.preprocess import (
    INK_MASK_LEVEL,
    EmptyImageError,
    ImageTooLargeError,
    PreprocessError,
    extract_ink,
    normalize_digit_image,
)
from digits.segment import DigitPiece, TooManyDigitsError, segment_digits

PEN = 10
Box = tuple[int, int, int, int]


def blank(width: int = 560, height: int = 280) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (width, height), 255)
    return image, ImageDraw.Draw(image)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def one(draw: ImageDraw.ImageDraw, x: int, y: int, h: int = 120) -> Box:
    draw.line([(x, y), (x, y + h)], fill=0, width=PEN)
    return (x - PEN // 2, y, PEN, h)


def zero(draw: ImageDraw.ImageDraw, x: int, y: int, w: int = 70, h: int = 120) -> Box:
    draw.ellipse([x, y, x + w, y + h], outline=0, width=PEN)
    return (x, y, w, h)


def seven(draw: ImageDraw.ImageDraw, x: int, y: int, w: int = 70, h: int = 120) -> Box:
    draw.line([(x, y), (x + w, y), (x + w // 3, y + h)], fill=0, width=PEN)
    return (x, y, w, h)


def four_in_two_strokes(draw: ImageDraw.ImageDraw, x: int, y: int, w: int = 80, h: int = 120) -> Box:
    """The slanted stroke and bar first, then the stem, which the bar stops short of."""
    draw.line([(x + w // 2, y), (x, y + 13 * h // 20), (x + w // 2, y + 13 * h // 20)], fill=0, width=PEN)
    draw.line([(x + 3 * w // 4, y), (x + 3 * w // 4, y + h)], fill=0, width=PEN)
    return (x, y, 3 * w // 4, h)


def five_with_separate_flag(draw: ImageDraw.ImageDraw, x: int, y: int, w: int = 70, h: int = 120) -> Box:
    """Stem and bowl in one stroke, the flag on top lifted off it."""
    body = [(0.1, 0.0), (0.0, 0.45), (0.5, 0.4), (1.0, 0.65), (0.5, 1.0), (0.0, 0.9)]
    draw.line([(x + a * w, y + b * h) for a, b in body], fill=0, width=PEN, joint="curve")
    draw.line([(x + 0.1 * w + 2 * PEN, y), (x + w, y)], fill=0, width=PEN)
    return (x, y, w, h)


def components(image: Image.Image) -> int:
    return ndimage.label(np.asarray(image) < 128, structure=np.ones((3, 3)))[1]


def assert_boxes_close(pieces: list[DigitPiece], expected: list[Box], tolerance: int = PEN + 2) -> None:
    assert len(pieces) == len(expected), [piece.box for piece in pieces]
    for piece, box in zip(pieces, expected, strict=True):
        assert np.abs(np.array(piece.box) - np.array(box)).max() <= tolerance, (piece.box, box)


def test_separate_digits_come_back_left_to_right_with_their_boxes():
    image, draw = blank()
    boxes = [zero(draw, 300, 80), one(draw, 80, 70), seven(draw, 160, 90)]  # drawn out of order
    pieces = segment_digits(png(image))
    assert_boxes_close(pieces, sorted(boxes))
    assert all(piece.image.shape == (28, 28) and piece.image.dtype == np.float32 for piece in pieces)


def test_a_four_drawn_in_two_strokes_stays_one_digit():
    image, draw = blank()
    boxes = [one(draw, 60, 70), four_in_two_strokes(draw, 140, 70), zero(draw, 300, 70)]
    assert components(image) == 4  # the four really is two separate strokes
    assert_boxes_close(segment_digits(png(image)), boxes)


def test_a_five_with_a_lifted_flag_stays_one_digit():
    image, draw = blank()
    boxes = [five_with_separate_flag(draw, 100, 70), one(draw, 260, 70)]
    assert components(image) == 3
    assert_boxes_close(segment_digits(png(image)), boxes, tolerance=PEN + 20)


def test_a_broken_stroke_stays_one_digit():
    image, draw = blank()
    draw.line([(100, 60), (100, 120)], fill=0, width=PEN)
    draw.line([(100, 128), (100, 190)], fill=0, width=PEN)
    boxes = [(95, 60, PEN, 130), zero(draw, 200, 65)]
    assert_boxes_close(segment_digits(png(image)), boxes)


def test_touching_digits_are_cut_where_the_ink_is_thinnest():
    image, draw = blank()
    zero(draw, 100, 60, w=80)
    zero(draw, 210, 60, w=80)
    draw.line([(178, 120), (212, 120)], fill=0, width=PEN)  # a joining stroke between the rings
    assert components(image) == 1
    left, right = segment_digits(png(image))
    assert left.box[0] == 100 and 180 <= left.box[0] + left.box[2] <= 212
    assert 178 <= right.box[0] <= 210 and right.box[0] + right.box[2] == 291


def template_classifier(templates: dict[int, np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """Template matching (forgiving a pixel of shift): confident only when a piece looks like one of
    the lone digits."""

    def classify(images: np.ndarray) -> np.ndarray:
        logits = np.full((len(images), 10), -0.05 * 100)  # the other classes: a fixed rejection level
        for digit, template in templates.items():
            shifted = [np.roll(template, (dy, dx), axis=(0, 1)) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
            distance = np.min([np.abs(images - t).mean(axis=(1, 2)) for t in shifted], axis=0)
            logits[:, digit] = -distance * 100
        probabilities = np.exp(logits)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    return classify


def test_the_classifier_chooses_the_cut_of_a_one_touching_a_zero():
    """Too narrow to be cut on shape alone; a classifier that knows a 1 and a 0 finds the cut."""
    image, draw = blank()
    wide_zero = functools.partial(zero, w=100)
    boxes = [one(draw, 100, 60), wide_zero(draw, 104, 60)]  # the 1 runs into the ring
    assert components(image) == 1
    assert len(segment_digits(png(image))) == 1
    templates = {}
    for digit, shape in ((1, one), (0, wide_zero)):
        alone, pen = blank()
        shape(pen, 200, 60)
        templates[digit] = normalize_digit_image(png(alone))
    assert_boxes_close(segment_digits(png(image), classify=template_classifier(templates)), boxes)


def test_soft_strokes_touching_by_their_faint_edges_are_told_apart():
    """Blurred ink (a scan, a scaled-up digit) joins neighbours by its faint fringe only."""
    image, draw = blank()
    boxes = [zero(draw, 100, 60), zero(draw, 176, 60)]  # 6 px apart
    soft = image.filter(ImageFilter.GaussianBlur(4))
    assert ndimage.label(extract_ink(png(soft)) > INK_MASK_LEVEL, structure=np.ones((3, 3)))[1] == 1
    assert len(segment_digits(png(soft))) == 1  # not wide enough to be cut on shape alone
    alone, pen = blank()
    zero(pen, 200, 60)
    classify = template_classifier({0: normalize_digit_image(png(alone.filter(ImageFilter.GaussianBlur(4))))})
    assert_boxes_close(segment_digits(png(soft), classify=classify), boxes, tolerance=PEN + 6)


def test_noise_specks_are_dropped():
    image, draw = blank()
    boxes = [one(draw, 100, 70), zero(draw, 200, 70)]
    for x, y in ((30, 20), (400, 240), (480, 40), (330, 150)):
        draw.ellipse([x, y, x + 4, y + 4], fill=0)
    assert_boxes_close(segment_digits(png(image)), boxes)


def test_both_polarities_give_the_same_pieces():
    image, draw = blank()
    one(draw, 100, 70)
    seven(draw, 180, 70)
    dark_on_light = segment_digits(png(image))
    light_on_dark = segment_digits(png(ImageOps.invert(image)))
    assert [p.box for p in dark_on_light] == [p.box for p in light_on_dark]
    for a, b in zip(dark_on_light, light_on_dark, strict=True):
        np.testing.assert_allclose(a.image, b.image, atol=1e-5)


def test_a_single_digit_is_normalized_exactly_as_predict_normalizes_it():
    image, draw = blank(280, 280)
    seven(draw, 90, 60)
    (piece,) = segment_digits(png(image))
    np.testing.assert_allclose(piece.image, normalize_digit_image(png(image)), atol=1e-6)


def test_pil_images_and_arrays_are_accepted():
    image, draw = blank()
    one(draw, 100, 70)
    zero(draw, 200, 70)
    expected = [p.box for p in segment_digits(png(image))]
    assert [p.box for p in segment_digits(image)] == expected
    assert [p.box for p in segment_digits(np.asarray(image))] == expected


def test_a_blank_canvas_is_an_empty_image():
    image, _ = blank()
    with pytest.raises(EmptyImageError):
        segment_digits(png(image))


def test_more_than_the_maximum_of_marks_is_too_many_digits():
    image, draw = blank(1200, 200)
    for k in range(40):
        one(draw, 20 + 29 * k, 40, h=100)
    with pytest.raises(TooManyDigitsError) as raised:
        segment_digits(png(image))
    assert raised.value.code == "too_many_digits"
    assert isinstance(raised.value, PreprocessError)
    assert len(segment_digits(png(image), max_digits=40)) == 40


def test_a_huge_image_is_refused_before_decoding():
    buffer = io.BytesIO()
    Image.new("1", (6000, 5000), 1).save(buffer, format="PNG")
    with pytest.raises(ImageTooLargeError):
        segment_digits(buffer.getvalue())
