"""Reading a drawn number: one function for the served path and the measured one."""

from __future__ import annotations

import numpy as np
import pytest

from digits.data import load_mnist
from digits.engines.sklearn import SklearnRuntime
from digits.notadigit import not_a_digit_scores
from digits.numbers import number_set
from digits.reading import read_number
from digits.runtime import Prediction
from digits.segment import segment_digits
from digits.zoo import ZOO


@pytest.fixture(scope="module")
def knn():
    mnist = load_mnist()
    model = ZOO["knn"].build()
    model.fit(mnist.x_train[:600].astype(np.float32) / 255.0, mnist.y_train[:600])
    (drawing,) = number_set(mnist.x_test, mnist.y_test, count=1, seed=5)
    return SklearnRuntime("knn", model), drawing


class CountingRuntime:
    """A runtime that counts the images it is asked to classify."""

    def __init__(self, runtime: SklearnRuntime, *, uncertainty: bool = False) -> None:
        self.runtime, self.name, self.family, self.images = runtime, runtime.name, runtime.family, 0
        self.uncertainty = uncertainty

    def predict(self, images: np.ndarray) -> Prediction:
        self.images += len(images)
        return self.runtime.predict(images)


def test_reading_a_number_reuses_the_readings_segmentation_made(knn):
    runtime, drawing = knn
    counting = CountingRuntime(runtime)
    reading = read_number(counting, drawing.png)
    segmenting_only = CountingRuntime(runtime)
    segment_digits(drawing.png, classify=lambda batch: segmenting_only.predict(batch).probabilities)
    assert counting.images == segmenting_only.images  # no second pass over the pieces
    expected = runtime.predict(np.stack([piece.image for piece in reading.pieces])).probabilities
    # float32 probabilities computed in batches of different sizes: equal to float32 rounding
    np.testing.assert_allclose(reading.prediction.probabilities, expected, rtol=1e-5, atol=1e-6)
    assert reading.number == "".join(str(int(d)) for d in expected.argmax(axis=1))


def test_a_model_with_uncertainty_reads_the_pieces_once_more_for_it(knn):
    runtime, drawing = knn
    counting = CountingRuntime(runtime, uncertainty=True)
    reading = read_number(counting, drawing.png)
    segmenting_only = CountingRuntime(runtime)
    segment_digits(drawing.png, classify=lambda batch: segmenting_only.predict(batch).probabilities)
    assert counting.images == segmenting_only.images + len(reading.pieces)


def test_each_piece_is_flagged_by_the_entrys_not_a_digit_rule(knn):
    runtime, drawing = knn
    reading = read_number(runtime, drawing.png)
    inputs = np.stack([piece.image for piece in reading.pieces])
    assert reading.not_a_digit_score.shape == (len(reading.pieces),)
    assert reading.not_a_digit_score.tolist() == not_a_digit_scores(inputs, reading.prediction, None).tolist()
    everything = {"thresholds": {"doubt": -1.0}}  # every reading has more doubt than this
    assert (read_number(runtime, drawing.png, not_a_digit_rule=everything).not_a_digit_score > 0.5).all()
