"""The drawn-numbers evaluation set and its scoring."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from digits.data import load_mnist
from digits.numbers import (
    CANVAS_HEIGHT,
    CANVAS_WIDTH,
    evaluate_numbers,
    main,
    number_set,
    score_numbers,
)
from digits.preprocess import extract_ink
from digits.runtime import SklearnRuntime
from digits.train import main as train_main
from digits.train_touching import main as train_touching_main
from digits.zoo import ZOO

BAR_WIDTHS = (2, 6, 10, 14, 18)  # stand-in digit k is a bar this wide and 20 high: its label shows in its box


def bars() -> tuple[np.ndarray, np.ndarray]:
    images = np.zeros((len(BAR_WIDTHS), 28, 28), dtype=np.uint8)
    for label, width in enumerate(BAR_WIDTHS):
        images[label, 4:24, 4 : 4 + width] = 255
    return images, np.arange(len(BAR_WIDTHS))


def label_from_box(box: tuple[int, int, int, int]) -> int:
    """Which bar a box holds, from its width/height (the pen may have thickened it by a pixel)."""
    _, _, w, h = box
    return int(np.argmin([abs(w / h - (width + 0.5) / 20.5) for width in BAR_WIDTHS]))


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


def test_the_number_set_is_the_same_for_a_seed_and_differs_across_seeds():
    images, labels = bars()
    first, again, other = (number_set(images, labels, count=5, seed=seed) for seed in (3, 3, 4))
    assert first == again
    assert [d.png for d in first] != [d.png for d in other]


def test_each_drawing_holds_its_number_in_its_boxes_left_to_right():
    images, labels = bars()
    drawings = number_set(images, labels, count=30, seed=1)
    assert any(drawing.touching for drawing in drawings)
    for drawing in drawings:
        assert 2 <= len(drawing.number) <= 6
        assert 0 <= drawing.touching < len(drawing.number)
        assert len(drawing.boxes) == len(drawing.number)
        assert "".join(str(label_from_box(box)) for box in drawing.boxes) == drawing.number
        lefts = [x for x, _, _, _ in drawing.boxes]
        assert lefts == sorted(lefts)
        ink = extract_ink(drawing.png) > 0.5
        assert ink.shape == (CANVAS_HEIGHT, CANVAS_WIDTH)
        covered = np.zeros_like(ink)
        for x, y, w, h in drawing.boxes:
            assert min(x, y) >= 0 and x + w <= CANVAS_WIDTH and y + h <= CANVAS_HEIGHT
            assert ink[y : y + h, x : x + w].any()
            covered[max(0, y - 1) : y + h + 1, max(0, x - 1) : x + w + 1] = True
        assert not (ink & ~covered).any()  # no ink outside the boxes


def test_numbers_come_in_both_polarities(mnist):
    drawings = number_set(mnist.x_test, mnist.y_test, count=20, seed=0)
    corners = [np.asarray(Image.open(io.BytesIO(d.png)))[0, 0] for d in drawings]
    assert min(corners) < 64 and max(corners) > 192
    assert {len(d.number) for d in drawings} >= {2, 6}


def test_a_number_read_with_the_wrong_count_of_digits_gets_no_digit_right_unless_aligned():
    result = score_numbers(["12", "345", "678", "90"], ["12", "35", "670", "9001"])
    assert result == {
        "numbers": 4,
        "digits": 10,
        "exact_match": 0.25,
        "digit_accuracy": 0.4,  # 12 and 67 only: 35 and 9001 have the wrong length
        "digit_accuracy_aligned": 0.6,  # 12, 67, and 35 as 345 less one digit; 9001 is 90 plus two: none
        "length_accuracy": 0.5,
    }


def test_a_small_evaluation_runs_end_to_end_with_a_tiny_model(mnist):
    model = ZOO["knn"].build()
    model.fit(mnist.x_train[:600].astype(np.float32) / 255.0, mnist.y_train[:600])
    result = evaluate_numbers(SklearnRuntime("knn", model), mnist, count=12, seed=0)
    assert result["model"] == "knn" and result["numbers"] == 12 and 24 <= result["digits"] <= 72
    assert 0.0 <= result["exact_match"] <= result["length_accuracy"] <= 1.0
    assert result["digit_accuracy"] > 0.5  # a 600-example knn reads most digits; a broken pipeline reads none


def test_the_command_line_reads_numbers_with_a_model_from_a_models_folder(tmp_path, capsys):
    tiny = ["--limit", "300", "--test-limit", "100", "--canvas-count", "20", "--quiet"]
    train_main(["--models", "knn", "--out", str(tmp_path), *tiny])
    assert main(["--models-dir", str(tmp_path), "--model", "knn", "--count", "5"]) == 0
    assert "exact_match=" in capsys.readouterr().out


def test_the_command_line_uses_the_entrys_detector_of_touching_digits_unless_told_not_to(tmp_path, capsys):
    tiny = ["--limit", "300", "--test-limit", "100", "--canvas-count", "20", "--quiet"]
    train_main(["--models", "knn", "--out", str(tmp_path), *tiny])
    assert (
        train_touching_main(
            ["--models-dir", str(tmp_path), "--model", "knn", "--numbers", "40", "--measure-numbers", "5"]
        )
        == 0
    )
    capsys.readouterr()
    for flags, used in (([], True), (["--no-touching-detector"], False)):
        assert main(["--models-dir", str(tmp_path), "--model", "knn", "--count", "3", *flags]) == 0
        assert f"touching_detector={used}" in capsys.readouterr().out
