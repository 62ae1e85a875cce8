"""POST /predict/number: a drawn number read digit by digit, left to right, in one batch."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from digits.config import MODELS_DIR
from digits.manifest import read_manifest, write_manifest
from digits.numbers import number_set
from digits.reading import read_number
from digits.runtime import load_runtime
from digits.segment import segment_digits
from digits.touching import MANIFEST_KEY as TOUCHING_WEIGHTS
from predictions.registry import get_registry

pytestmark = pytest.mark.usefixtures("tiny_models")


@pytest.fixture(scope="module")
def drawn_number(mnist):
    return number_set(mnist.x_test, mnist.y_test, count=1, seed=3)[0]


def test_a_number_is_read_with_one_answer_per_digit(api_client, drawn_number, tiny_models) -> None:
    upload = SimpleUploadedFile("number.png", drawn_number.png, content_type="image/png")
    response = api_client.post("/predict/number", {"image": upload, "model": "ann"}, format="multipart")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["model"] == "ann" and body["elapsed_ms"] >= 0
    assert body["number"] == "".join(str(d["digit"]) for d in body["digits"])
    lefts = [d["box"][0] for d in body["digits"]]
    assert lefts == sorted(lefts)
    for digit in body["digits"]:
        assert len(digit["probabilities"]) == 10 and sum(digit["probabilities"]) == pytest.approx(1, abs=1e-6)
        assert digit["confidence"] == pytest.approx(max(digit["probabilities"]))
    # what the library's one reading function finds, the path digits.numbers measures
    entry = next(m for m in read_manifest(tiny_models)["models"] if m["name"] == "ann")
    reading = read_number(load_runtime(tiny_models, entry), drawn_number.png, not_a_digit_rule=entry.get("not_a_digit"))
    assert [d["box"] for d in body["digits"]] == [list(piece.box) for piece in reading.pieces]
    np.testing.assert_allclose(
        [d["probabilities"] for d in body["digits"]], reading.prediction.probabilities, atol=1e-5
    )
    np.testing.assert_allclose([d["not_a_digit_score"] for d in body["digits"]], reading.not_a_digit_score, atol=1e-6)
    assert [d["not_a_digit"] for d in body["digits"]] == (reading.not_a_digit_score > 0.5).tolist()


def test_a_lone_digit_gets_the_same_input_and_answer_as_from_predict(api_client) -> None:
    image = Image.new("L", (280, 280), 255)  # big enough that both endpoints average it down first
    ImageDraw.Draw(image).line([(90, 60), (170, 60), (115, 200)], fill=0, width=12)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    single = api_client.post("/predict", {"image": data, "model": "ann", "return_input": True}, format="json").json()
    number = api_client.post("/predict/number", {"image": data, "model": "ann"}, format="json").json()
    (piece,) = segment_digits(buffer.getvalue())
    np.testing.assert_allclose(piece.image, single["input"], atol=5e-4)  # the answer rounds to 3 decimals
    (digit,) = number["digits"]
    assert digit["digit"] == single["digit"]
    np.testing.assert_allclose(digit["probabilities"], single["probabilities"], atol=1e-5)


def test_json_base64_number_equals_the_upload(api_client, drawn_number) -> None:
    body = {"image": "data:image/png;base64," + base64.b64encode(drawn_number.png).decode(), "model": "knn"}
    from_json = api_client.post("/predict/number", body, format="json").json()
    upload = SimpleUploadedFile("number.png", drawn_number.png, content_type="image/png")
    from_upload = api_client.post("/predict/number", {"image": upload, "model": "knn"}, format="multipart").json()
    assert from_json["number"] == from_upload["number"] and from_json["digits"] == from_upload["digits"]


def test_more_than_32_digits_is_too_many(api_client) -> None:
    image = Image.new("L", (40 * 34, 60), 255)
    pen = ImageDraw.Draw(image)
    for index in range(34):
        pen.line([(40 * index + 20, 10), (40 * index + 20, 50)], fill=0, width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    response = api_client.post(
        "/predict/number", {"image": base64.b64encode(buffer.getvalue()).decode()}, format="json"
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "too_many_digits"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"image": "!!"}, 400, "invalid_image"),
        ({"pixels": [0] * 784}, 400, "invalid_request"),
        ({"image": "aGVsbG8=", "model": "nope"}, 404, "unknown_model"),
    ],
)
def test_number_errors_follow_the_contract(api_client, body, status, code) -> None:
    response = api_client.post("/predict/number", body, format="json")
    assert response.status_code == status and response.json()["error"]["code"] == code


def test_a_blank_number_canvas_is_empty(api_client) -> None:
    buffer = io.BytesIO()
    Image.new("L", (560, 280), 255).save(buffer, format="PNG")
    upload = SimpleUploadedFile("blank.png", buffer.getvalue(), content_type="image/png")
    response = api_client.post("/predict/number", {"image": upload}, format="multipart")
    assert response.status_code == 400 and response.json()["error"]["code"] == "empty_image"


def test_a_huge_number_image_is_413(api_client, huge_png) -> None:
    upload = SimpleUploadedFile("huge.png", huge_png, content_type="image/png")
    response = api_client.post("/predict/number", {"image": upload}, format="multipart")
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"


def give_detector(models_dir, model: str, weights: dict) -> None:
    """Store a detector of touching digits in a model's manifest entry, as `digits.train_touching` does."""
    manifest = read_manifest(models_dir)
    next(m for m in manifest["models"] if m["name"] == model)[TOUCHING_WEIGHTS] = weights
    write_manifest(models_dir, manifest)


def test_the_models_detector_of_touching_digits_guides_the_reading(api_client, models_copy, drawn_number) -> None:
    committed = next(m for m in read_manifest(MODELS_DIR)["models"] if TOUCHING_WEIGHTS in m)
    give_detector(models_copy, "ann", committed[TOUCHING_WEIGHTS])
    detector = get_registry().bundle("ann").touching
    assert detector is not None and get_registry().bundle("ann").touching is detector  # decoded once
    upload = SimpleUploadedFile("number.png", drawn_number.png, content_type="image/png")
    body = api_client.post("/predict/number", {"image": upload, "model": "ann"}, format="multipart").json()
    runtime = get_registry().get("ann")
    pieces = segment_digits(
        drawn_number.png, classify=lambda batch: runtime.predict(batch).probabilities, touching=detector
    )
    assert [d["box"] for d in body["digits"]] == [list(piece.box) for piece in pieces]


def test_a_malformed_detector_is_logged_and_numbers_are_read_without_it(
    api_client, models_copy, drawn_number, caplog
) -> None:
    give_detector(models_copy, "ann", {"shapes": [[3, 3, 1, 8]], "weights": "!!"})
    upload = SimpleUploadedFile("number.png", drawn_number.png, content_type="image/png")
    response = api_client.post("/predict/number", {"image": upload, "model": "ann"}, format="multipart")
    assert response.status_code == 200
    assert get_registry().bundle("ann").touching is None
    assert "detector of touching digits ignored" in caplog.text
