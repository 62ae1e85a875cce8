import io
import json

import joblib
import numpy as np
import pytest
from PIL import Image

from digits.engines.sklearn import SklearnRuntime
from digits.manifest import read_manifest, sha256_file, upsert_entry
from digits.novelty import (
    SHAPES,
    fit_reference,
    fit_thresholds,
    flag_not_a_digit,
    input_signals,
    main,
    model_signals,
    non_digit_inputs,
    non_digit_set,
)
from digits.preprocess import normalize_digit_image, to_unit_range
from digits.runtime import Prediction
from digits.synthetic import CANVAS_SIZE
from digits.zoo import ZOO


@pytest.fixture(scope="module")
def knn(small_train) -> SklearnRuntime:
    """A k-nearest-neighbours model fitted on 500 MNIST digits: seconds, no TensorFlow."""
    return SklearnRuntime("knn", ZOO["knn"].build().fit(*small_train))


@pytest.fixture(scope="module")
def tiny_rule(knn, small_train, mnist) -> dict:
    """A rule fitted as the command does, on tiny data: 500 held-out digits, 180 non-digits."""
    reference = fit_reference(*small_train)
    digits = to_unit_range(mnist.x_test[:500])
    non_digits, _ = non_digit_inputs(180, seed=1)

    def signals(images):
        return model_signals(knn.predict(images)) | input_signals(images, reference)

    return {"thresholds": fit_thresholds([signals(digits)], signals(non_digits)), "reference": reference}


def test_non_digit_drawings_are_the_same_for_the_same_seed():
    first, kinds = non_digit_set(12, seed=7)
    again, _ = non_digit_set(12, seed=7)
    other, _ = non_digit_set(12, seed=8)
    assert first == again
    assert first != other
    assert set(kinds) == set(SHAPES)


def test_non_digit_drawings_are_canvas_pngs_normalized_like_an_upload():
    drawings, _ = non_digit_set(6, seed=0)
    inputs, kinds = non_digit_inputs(6, seed=0)
    for png, image in zip(drawings, inputs, strict=True):
        assert Image.open(io.BytesIO(png)).size == (CANVAS_SIZE, CANVAS_SIZE)
        np.testing.assert_array_equal(image, normalize_digit_image(png))
    assert inputs.shape == (6, 28, 28) and inputs.dtype == np.float32
    assert list(kinds) == list(SHAPES)


def test_flags_are_one_boolean_per_image(knn, tiny_rule, small_test):
    images = small_test[0][:7]
    for rule in (None, tiny_rule):
        flags = flag_not_a_digit(images, knn.predict(images), rule)
        assert flags.shape == (7,) and flags.dtype == bool


def test_fitted_rule_passes_unseen_mnist_digits(knn, tiny_rule, mnist):
    digits = to_unit_range(mnist.x_test[500:1500])
    assert flag_not_a_digit(digits, knn.predict(digits), tiny_rule).mean() < 0.05


def test_fitted_rule_flags_obvious_non_digits_of_another_seed(knn, tiny_rule):
    images, kinds = non_digit_inputs(120, seed=2)
    flags = flag_not_a_digit(images, knn.predict(images), tiny_rule)
    assert flags.mean() > 0.5
    for obvious in ("dash", "crossed_circle", "zigzag"):
        assert flags[kinds == obvious].mean() >= 0.8, obvious


def test_default_rule_flags_a_dash_and_passes_digits(knn, mnist):
    dash = np.zeros((28, 28), dtype=np.float32)
    dash[13:15, 4:24] = 1.0
    digits = to_unit_range(mnist.x_test[500:1500])
    assert flag_not_a_digit(dash[None], knn.predict(dash[None]), None).tolist() == [True]
    assert flag_not_a_digit(digits, knn.predict(digits), None).mean() < 0.05


def test_rule_round_trips_through_json(knn, tiny_rule, small_test):
    images = np.concatenate([small_test[0][:50], non_digit_inputs(30, seed=3)[0]])
    prediction = knn.predict(images)
    restored = json.loads(json.dumps(tiny_rule))
    assert restored == tiny_rule
    np.testing.assert_array_equal(
        flag_not_a_digit(images, prediction, restored), flag_not_a_digit(images, prediction, tiny_rule)
    )


def test_monte_carlo_spread_flags_and_is_skipped_for_a_model_that_does_not_sample():
    probabilities = np.array([[0.9] + [0.1 / 9] * 9, [0.9] + [0.1 / 9] * 9])
    std = np.zeros((2, 10))
    std[1, 0] = 0.3
    sampled = Prediction(probabilities=probabilities, std=std, predictive_entropy=np.array([0.5, 0.5]))
    images = np.zeros((2, 28, 28), dtype=np.float32)
    rule = {"thresholds": {"mc_std": 0.2}}
    assert flag_not_a_digit(images, sampled, rule).tolist() == [False, True]
    assert flag_not_a_digit(images, Prediction(probabilities=probabilities), rule).tolist() == [False, False]


def test_fitted_thresholds_keep_every_digit_part_within_target_and_skip_useless_signals():
    rng = np.random.default_rng(0)
    parts = [{"useful": rng.normal(0, 1, 2000), "useless": rng.normal(0, 1, 2000)} for _ in range(2)]
    parts[1]["useful"] = parts[1]["useful"] + 0.5  # a harder part: its tail must set the threshold
    non_digits = {"useful": rng.normal(4, 1, 500), "useless": rng.normal(0, 1, 500)}
    thresholds = fit_thresholds(parts, non_digits, target=0.01)
    assert set(thresholds) == {"useful"}
    for part in parts:
        assert (part["useful"] > thresholds["useful"]).mean() <= 0.01


def test_command_adds_a_measured_rule_to_each_manifest_entry(tmp_path, small_train):
    spec = ZOO["knn"]
    joblib.dump(spec.build().fit(*small_train), tmp_path / spec.file)
    entry = {"name": "knn", "display_name": spec.display_name, "family": "sklearn", "file": spec.file}
    upsert_entry(tmp_path, entry | {"sha256": sha256_file(tmp_path / spec.file), "metrics": {"x": 1}})

    assert main(["--models-dir", str(tmp_path), "--test-limit", "400", "--non-digits", "60"]) == 0

    (written,) = read_manifest(tmp_path)["models"]
    assert written["metrics"] == {"x": 1}
    measured = written["not_a_digit"]["measured"]
    assert 0.0 <= measured["mnist_test_false_alarm"] <= 1.0
    assert set(measured["non_digit_hit_by_kind"]) == set(SHAPES)
    assert written["not_a_digit"]["thresholds"]
