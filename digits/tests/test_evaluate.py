import numpy as np
import pytest

from digits.evaluate import expected_calibration_error


def test_calibration_error_is_zero_when_confidence_matches_accuracy():
    # 10 answers at 80% confidence, 8 of them right.
    probabilities = np.full((10, 10), 0.2 / 9)
    probabilities[:, 0] = 0.8
    labels = np.array([0] * 8 + [1, 2])
    assert expected_calibration_error(probabilities, labels) == pytest.approx(0.0, abs=1e-9)


def test_overconfidence_is_measured():
    probabilities = np.eye(10)[[0, 0, 0, 0]]  # 100% sure, right half the time
    assert expected_calibration_error(probabilities, np.array([0, 0, 1, 1])) == pytest.approx(0.5)
