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
    WORKING_SIDE,
    EmptyImageError,
    ImageTooLargeError,
    PreprocessError,
    extract_ink,
    normalize_digit_image,
)
from digits.segment import SHAPE_FACTS, DigitPiece, TooManyDigitsError, segment_digits, whole_groups
from digits.segment.crop import Crop
from digits.segment.cutting import lattice, seams
from digits.segment.scoring import _read
from digits.segment.tuning import MIN_PIECE_PENS, WIDE_COST

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
    # The canvas is read averaged down 2x, as /predict reads it: box edges land on even pixels.
    assert left.box[0] == 100 and 180 <= left.box[0] + left.box[2] <= 212
    assert 178 <= right.box[0] <= 210 and abs(right.box[0] + right.box[2] - 291) <= 1


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
        # The picture is averaged down to whole grey levels, and x and 255 - x may round apart.
        np.testing.assert_allclose(a.image, b.image, atol=2 / 255)


@pytest.mark.parametrize("side", [200, 280, 500])  # under 2 x WORKING_SIDE, and pictures /predict averages down
def test_a_single_digit_is_normalized_exactly_as_predict_normalizes_it(side):
    image, draw = blank(side, side)
    seven(draw, side // 3, side // 5, w=side // 3, h=side // 2)
    (piece,) = segment_digits(png(image))
    # The same float32 arithmetic on the same pixels: only rounding may differ.
    np.testing.assert_allclose(piece.image, normalize_digit_image(png(image)), atol=1e-6)


def test_on_a_picture_averaged_down_boxes_are_in_the_drawings_own_pixels():
    image, draw = blank(561, 281)  # averaged down 2x, with a row and a column left over
    boxes = [one(draw, 100, 70), zero(draw, 200, 70), seven(draw, 480, 150)]
    assert 2 * WORKING_SIDE <= 281
    pieces = segment_digits(png(image))
    assert_boxes_close(pieces, boxes)
    assert all(x + w <= 561 and y + h <= 281 for x, y, w, h in (piece.box for piece in pieces))


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


def test_three_touching_digits_are_cut_inside_the_part_that_thinning_left_whole():
    """Thinning parts the thinly joined ring but not the 1 running into the other ring; the part
    that holds both reads poorly, so it is cut in turn."""
    image, draw = blank()
    wide_zero = functools.partial(zero, w=100)
    boxes = [one(draw, 100, 60), wide_zero(draw, 104, 60), wide_zero(draw, 222, 60)]
    draw.line([(204, 120), (222, 120)], fill=0, width=2)  # a hairline joining the rings
    assert components(image) == 1
    templates = {}
    for digit, shape in ((1, one), (0, wide_zero)):
        alone, pen = blank()
        shape(pen, 200, 60)
        templates[digit] = normalize_digit_image(png(alone))
    pieces = segment_digits(png(image), classify=template_classifier(templates))
    assert_boxes_close(pieces, boxes)


def test_a_short_digit_touching_a_tall_one_is_judged_by_the_other_digits_height():
    """The touching pair is far taller than its 0 (the 1 towers over it), but the 0 is as tall as
    the number's other digits, so it is a digit rather than a fragment."""
    image, draw = blank()
    boxes = [one(draw, 100, 30, h=170), zero(draw, 112, 70, h=100)]
    draw.line([(105, 120), (112, 120)], fill=0, width=2)  # a hairline joining the 1 to the ring
    boxes += [zero(draw, 300, 70, h=100), zero(draw, 400, 70, h=100)]
    assert components(image) == 3
    templates = {}
    for digit, shape in ((1, one), (0, functools.partial(zero, h=100))):
        alone, pen = blank()
        shape(pen, 200, 60)
        templates[digit] = normalize_digit_image(png(alone))
    pieces = segment_digits(png(image), classify=template_classifier(templates))
    assert_boxes_close(pieces, boxes)


def ink_crop(image: Image.Image, reference: float = np.inf) -> Crop:
    """All the ink of a drawing as one group, the way `segment_digits` crops it."""
    ink = extract_ink(png(image))
    mask = ink > INK_MASK_LEVEL
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    window = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return Crop(np.where(mask, ink, 0.0)[window], mask[window], int(cols[0]), int(rows[0]), reference)


def test_no_candidate_piece_is_a_slice_of_a_stroke():
    """A column cut inside a thick stroke leaves a sliver a classifier may well read as a 1."""
    image, draw = blank()
    draw.ellipse([100, 60, 230, 180], outline=0, width=30)
    crop = ink_crop(image)
    pieces = lattice(crop).pieces
    assert pieces
    assert min(piece.box[2] for piece in pieces) >= MIN_PIECE_PENS * crop.pen_width()


def test_a_piece_wider_than_the_numbers_digits_are_tall_is_less_plausible():
    image, draw = blank()
    zero(draw, 100, 60, w=150)
    piece = ink_crop(image).whole()
    always_zero = lambda images: np.tile(np.eye(10)[0] * 0.99 + 0.001, (len(images), 1))  # noqa: E731
    alone, narrower, wider = _read(always_zero, [piece] * 3, [np.inf, 1.4 * 160, 1.4 * 100])
    assert alone == narrower
    assert wider == pytest.approx(alone - WIDE_COST * np.log(piece.box[2] / 140))


def test_a_seam_follows_the_slant_between_two_strokes_where_every_column_crosses_ink():
    image, draw = blank()
    for x in (100, 124):
        draw.line([(x, 180), (x + 20, 60)], fill=0, width=8)  # two slanted 1s, side by side
    crop = ink_crop(image)
    center = crop.width // 2
    assert crop.mask.sum(axis=0).min() > 0  # no straight cut parts them
    cuts, crossed = seams(crop, np.array([center]))
    assert crossed[0] == 0.0
    x = np.arange(crop.width)[None]
    assert components(Image.fromarray(np.uint8(255 * ~(crop.mask & (x < cuts[0][:, None]))))) == 1


def two_touching_ones() -> tuple[Image.Image, list[Box], dict[int, np.ndarray]]:
    """Two 1s joined by a hairline, and templates that read the pair as a confident 4: no wider
    than a digit and read with certainty, only a detector of touching digits calls it two."""
    image, draw = blank()
    boxes = [one(draw, 100, 60), one(draw, 160, 60)]  # as wide as a 4
    draw.line([(100, 120), (160, 120)], fill=0, width=2)
    alone, pen = blank()
    one(pen, 200, 60)
    (pair,), _ = whole_groups(png(image))
    return image, boxes, {1: whole_groups(png(alone))[0][0].image, 4: pair.image}


def constant_detector(probability: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    return lambda images, _facts: np.full(len(images), probability)


def wider_than_a_one_is_two(_images: np.ndarray, facts: np.ndarray) -> np.ndarray:
    """A stand-in detector: any group wider than 0.4 of its height holds two digits."""
    return np.where(facts[:, 0] > np.log(0.4), 0.99, 0.01)


def test_a_detector_of_touching_digits_has_a_confidently_read_pair_cut():
    image, boxes, templates = two_touching_ones()
    assert components(image) == 1
    classify = template_classifier(templates)
    assert len(segment_digits(png(image), classify=classify)) == 1
    assert len(segment_digits(png(image), classify=classify, touching=constant_detector(0.01))) == 1
    left, right = segment_digits(png(image), classify=classify, touching=wider_than_a_one_is_two)
    (x1, _, w1, _), (x2, _, w2, _) = boxes
    assert abs(left.box[0] - x1) <= 2 and abs(right.box[0] + right.box[2] - (x2 + w2)) <= 2
    assert left.box[0] + left.box[2] < x2 and right.box[0] > x1 + w1  # the cut runs along the hairline


def test_a_detector_sure_of_one_digit_keeps_a_group_whole_that_the_classifier_would_cut():
    image, draw = blank()
    wide_zero = functools.partial(zero, w=100)
    one(draw, 100, 60)
    wide_zero(draw, 104, 60)
    templates = {}
    for digit, shape in ((1, one), (0, wide_zero)):
        alone, pen = blank()
        shape(pen, 200, 60)
        templates[digit] = normalize_digit_image(png(alone))
    classify = template_classifier(templates)
    assert len(segment_digits(png(image), classify=classify)) == 2
    assert len(segment_digits(png(image), classify=classify, touching=constant_detector(1e-6))) == 1


def test_whole_groups_are_the_groups_before_any_cut_with_their_shape_facts():
    image, boxes, _ = two_touching_ones()
    zero(ImageDraw.Draw(image), 300, 60)
    pieces, facts = whole_groups(png(image))
    assert len(pieces) == 2 and facts.shape == (2, SHAPE_FACTS)
    (x, _, w, h), ring = pieces[0].box, pieces[1].box
    assert abs(x - boxes[0][0]) <= 2 and abs(x + w - (boxes[1][0] + boxes[1][2])) <= 2
    # float32 facts against float64 logs: numpy's SIMD log differs by CPU in the last ulps
    np.testing.assert_allclose(facts[0][:3], np.log([w / h, w / ring[3], h / ring[3]]), rtol=1e-5)
    assert np.exp(facts[0][3]) * h == pytest.approx(PEN, rel=0.3)  # the pen width, as a share of the height


def test_a_digit_wider_than_any_mnist_digit_stays_whole_when_the_detector_is_sure_of_it():
    image, draw = blank()
    box = zero(draw, 100, 80, w=200, h=90)  # over twice as wide as tall: cut for certain without a detector
    classify = template_classifier({0: whole_groups(png(image))[0][0].image})
    assert len(segment_digits(png(image), classify=classify)) >= 2
    assert_boxes_close(segment_digits(png(image), classify=classify, touching=constant_detector(1e-6)), [box])
