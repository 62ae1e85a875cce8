"""The served decision: scores in 0..1, `not_a_digit` exactly when the score passes 0.5."""

import json

import numpy as np
import pytest

from digits.engines.sklearn import SklearnRuntime
from digits.notadigit import DECISION, MODEL_SCORE, not_a_digit_scores
from digits.preprocess import to_unit_range
from digits.runtime import Prediction
from digits.zoo import ZOO

CONFIDENT = np.array([[0.9] + [0.1 / 9] * 9])


@pytest.fixture(scope="module")
def knn(small_train) -> SklearnRuntime:
    return SklearnRuntime("knn", ZOO["knn"].build().fit(*small_train))


def dash() -> np.ndarray:
    image = np.zeros((1, 28, 28), dtype=np.float32)
    image[0, 13:15, 4:24] = 1.0
    return image


def test_default_rule_flags_a_dash_and_passes_digits(knn, mnist):
    digits = to_unit_range(mnist.x_test[500:1500])
    assert (not_a_digit_scores(dash(), knn.predict(dash()), None) > DECISION).tolist() == [True]
    assert (not_a_digit_scores(digits, knn.predict(digits), None) > DECISION).mean() < 0.05


def test_a_rule_score_passes_one_half_exactly_when_a_signal_passes_its_threshold():
    images = np.zeros((3, 28, 28), dtype=np.float32)
    probabilities = np.repeat(CONFIDENT, 3, axis=0)
    probabilities[1] = [0.5, 0.5] + [0.0] * 8
    probabilities[2] = [0.3, 0.3, 0.4] + [0.0] * 7
    rule = {"thresholds": {"doubt": 0.55}}
    scores = not_a_digit_scores(images, Prediction(probabilities=probabilities), rule)
    assert ((scores >= 0) & (scores <= 1)).all()
    assert (scores > DECISION).tolist() == [False, False, True]  # doubt 0.1, 0.5, 0.6


def test_a_model_score_is_used_as_given_and_a_missing_one_falls_back_to_the_default_rule():
    images = dash()
    rule = {"score": MODEL_SCORE}
    given = Prediction(probabilities=CONFIDENT, not_a_digit_score=np.array([0.2]))
    assert not_a_digit_scores(images, given, rule).tolist() == [0.2]
    fallback = not_a_digit_scores(images, Prediction(probabilities=CONFIDENT), rule)
    np.testing.assert_array_equal(fallback, not_a_digit_scores(images, Prediction(probabilities=CONFIDENT), None))


def test_monte_carlo_spread_flags_and_is_skipped_for_a_model_that_does_not_sample():
    probabilities = np.repeat(CONFIDENT, 2, axis=0)
    std = np.zeros((2, 10))
    std[1, 0] = 0.3
    sampled = Prediction(probabilities=probabilities, std=std, predictive_entropy=np.array([0.5, 0.5]))
    images = np.zeros((2, 28, 28), dtype=np.float32)
    rule = {"thresholds": {"mc_std": 0.2}}
    assert (not_a_digit_scores(images, sampled, rule) > DECISION).tolist() == [False, True]
    assert (not_a_digit_scores(images, Prediction(probabilities=probabilities), rule) > DECISION).tolist() == [
        False,
        False,
    ]


def test_a_rule_with_a_reference_round_trips_through_json(knn, small_train, small_test):
    from digits.novelty import fit_reference

    rule = {"thresholds": {"subspace": 0.3, "holes": 3}, "reference": fit_reference(*small_train)}
    images = np.concatenate([small_test[0][:50], dash()])
    prediction = knn.predict(images)
    restored = json.loads(json.dumps(rule))
    np.testing.assert_array_equal(
        not_a_digit_scores(images, prediction, restored), not_a_digit_scores(images, prediction, rule)
    )
