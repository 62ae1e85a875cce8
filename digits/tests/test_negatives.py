"""The negative drawings: each family is seeded, draws canvas PNGs read like an upload, and leaves
out what a person would read as a digit."""

import io
import math

import numpy as np
import pytest
from PIL import Image

from digits.negatives import FAMILY_NAMES, broken, doodles, families, hershey, negative_inputs
from digits.negatives.pen import arc
from digits.preprocess import normalize_digit_image
from digits.synthetic import CANVAS_SIZE


@pytest.fixture(scope="module")
def draws(mnist) -> dict:
    return families(mnist.x_train[:300], mnist.y_train[:300])


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_each_family_draws_the_same_canvases_for_the_same_seed(draws, family):
    def pngs(seed):
        rng = np.random.default_rng(seed)
        return [draws[family](rng) for _ in range(4)]

    first = pngs(5)
    assert first == pngs(5) and first != pngs(6)
    for png in first:
        assert Image.open(io.BytesIO(png)).size == (CANVAS_SIZE, CANVAS_SIZE)


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_each_familys_inputs_are_its_drawings_through_the_preprocessing(draws, family):
    inputs = negative_inputs(draws[family], 5, seed=1)
    assert inputs.shape == (5, 28, 28) and inputs.dtype == np.float32
    assert np.isclose(inputs.max(axis=(1, 2)), 1.0, atol=0.05).all()  # ink scaled as a digit's is
    if family != "blanks":  # blanks skip the drawings the preprocessing refuses
        rng = np.random.default_rng(1)
        np.testing.assert_array_equal(inputs[0], normalize_digit_image(draws[family](rng)))


def test_hershey_glyphs_leave_out_digits_and_letters_read_as_digits():
    keys = {(font, key) for font, key, _ in hershey.glyphs()}
    roman = {key for font, key in keys if font == "futural"}
    assert not roman & set("0123456789OolI|")
    assert {"A", "X", "K", "M", "W", "&", "#"} <= roman
    assert len({font for font, _ in keys}) == len(hershey.FONTS)  # every font contributes


def test_hershey_geometric_rules_catch_a_ring_and_an_upright_bar_but_keep_a_dash_and_a_cross():
    assert hershey.looks_like_a_digit([arc(0, 0, 10, 14, 0, 2 * math.pi, 40)])  # an ellipse: a 0
    assert hershey.looks_like_a_digit([[(0.0, 0.0), (2.0, 20.0)]])  # a steep bar: a 1
    assert hershey.looks_like_a_digit([arc(0, 0, 6, 12, -1.2, 1.2)])  # a bracket: a 1
    assert not hershey.looks_like_a_digit([[(0.0, 0.0), (20.0, 3.0)]])  # a dash
    assert not hershey.looks_like_a_digit([[(0.0, 0.0), (20.0, 20.0)], [(20.0, 0.0), (0.0, 20.0)]])


@pytest.mark.parametrize("kind", list(doodles.SHAPES))
def test_every_doodle_kind_is_drawn_inside_the_unit_box_and_reads_as_an_input(kind):
    rng = np.random.default_rng(0)
    strokes = doodles.SHAPES[kind](rng)
    points = np.array([p for stroke in strokes for p in stroke])
    assert len(strokes) >= 1 and np.isfinite(points).all()
    image = normalize_digit_image(doodles.draw(np.random.default_rng(3)))
    assert image.shape == (28, 28)


def test_torn_and_shuffled_digits_are_never_ones_and_keep_their_ink(mnist):
    labels = mnist.y_train[:300]
    ones, seven = np.where(labels == 1)[0][:20], int(np.where(labels == 7)[0][0])
    digits = mnist.x_train[np.r_[ones, seven]]
    labels = labels[np.r_[ones, seven]]
    rng = np.random.default_rng(0)
    for damage in (broken.torn, broken.shuffled):
        damaged = damage(digits, labels, rng)
        assert damaged.astype(int).sum() == digits[-1].astype(int).sum()  # the 7, moved, not lost


def test_overlapped_digits_are_of_two_classes_each_adding_a_third_of_the_ink(mnist):
    digits, labels = mnist.x_train[:200], mnist.y_train[:200]
    rng = np.random.default_rng(0)
    for _ in range(10):
        pair = broken.overlapped(digits, labels, rng).astype(int)
        assert not any(np.array_equal(pair, digit) for digit in digits.astype(int))
        assert pair.sum() > digits.astype(int).sum(axis=(1, 2)).min()
