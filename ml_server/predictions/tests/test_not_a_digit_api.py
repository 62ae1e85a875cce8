"""`not_a_digit` end to end: a small cnn trained and given its own score by the project's commands
(`digits.train`, `digits.novelty`) in a temporary folder, served, and asked about doodles and
digits through the API."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest

from digits.negatives import doodles
from digits.preprocess import to_unit_range
from digits.synthetic import canvas_digit_set

COUNT = 12  # drawings of each kind asked about


@pytest.fixture(scope="module")
def cnn_with_score(tmp_path_factory) -> Path:
    """A cnn from 3,000 digits and two epochs; its score fitted on a few hundred negatives."""
    from digits.novelty import main as fit_score
    from digits.train import main as train

    folder = tmp_path_factory.mktemp("cnn_with_score")
    arguments = ["--models", "cnn", "--out", str(folder), "--limit", "3500", "--validation", "500", "--epochs", "2"]
    assert train([*arguments, "--canvas-train", "500", "--test-limit", "200", "--canvas-count", "50", "--quiet"]) == 0
    counts = ["--fit-negatives", "150", "--tune-negatives", "20", "--report-negatives", "20"]
    counts += ["--test-limit", "200", "--canvas-count", "50"]
    assert fit_score(["--models-dir", str(folder), "--validation", "500", *counts]) == 0
    return folder


@pytest.fixture(autouse=True)
def served(cnn_with_score, serve_models) -> None:
    serve_models(cnn_with_score, "cnn")


def ask(api_client, pngs: list[bytes]) -> list[dict]:
    instances = [{"image": base64.b64encode(png).decode("ascii")} for png in pngs]
    response = api_client.post("/predict", {"instances": instances}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["predictions"]


def test_doodles_are_flagged_and_canvas_digits_are_not(api_client, mnist) -> None:
    rng = np.random.default_rng(2024)
    doodle_answers = ask(api_client, [doodles.draw(rng) for _ in range(COUNT)])
    digit_pngs, _ = canvas_digit_set(mnist.x_test[-COUNT:], mnist.y_test[-COUNT:], count=COUNT, seed=5)
    digit_answers = ask(api_client, digit_pngs)
    for answer in doodle_answers + digit_answers:
        assert 0.0 <= answer["not_a_digit_score"] <= 1.0
        assert answer["not_a_digit"] == (answer["not_a_digit_score"] > 0.5)
        assert len(answer["probabilities"]) == 10 and sum(answer["probabilities"]) == pytest.approx(1, abs=1e-5)
    # A cnn of two short epochs separates less than the real one: the flag must fire on doodles and
    # spare digits, and doodles must score above digits, but not every doodle is caught.
    assert any(a["not_a_digit"] for a in doodle_answers)
    assert sum(a["not_a_digit"] for a in digit_answers) <= COUNT // 6
    doodle_scores = [a["not_a_digit_score"] for a in doodle_answers]
    assert np.median(doodle_scores) > np.median([a["not_a_digit_score"] for a in digit_answers])


def test_a_digit_given_as_pixels_is_a_digit_with_a_low_score(api_client, mnist) -> None:
    pixels = to_unit_range(mnist.x_test[-COUNT:])
    body = {"instances": [{"pixels": image.tolist()} for image in pixels]}
    answers = api_client.post("/predict", body, format="json").json()["predictions"]
    assert sum(not a["not_a_digit"] for a in answers) >= COUNT - COUNT // 6
    assert np.median([a["not_a_digit_score"] for a in answers]) < 0.5


def test_each_digit_of_a_number_carries_the_score(api_client, mnist) -> None:
    from digits.numbers import number_set

    drawing = number_set(mnist.x_test, mnist.y_test, count=1, seed=3)[0]
    body = {"image": base64.b64encode(drawing.png).decode("ascii")}
    response = api_client.post("/predict/number", body, format="json")
    assert response.status_code == 200, response.content
    for digit in response.json()["digits"]:
        assert 0.0 <= digit["not_a_digit_score"] <= 1.0
        assert digit["not_a_digit"] == (digit["not_a_digit_score"] > 0.5)
