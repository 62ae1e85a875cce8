"""POST /feedback and GET /feedback/stats: what is stored, what is refused, throttling, database down."""

from __future__ import annotations

import base64
import io
from unittest import mock

import numpy as np
import pytest
from django.db import OperationalError, connections
from PIL import Image
from rest_framework.throttling import ScopedRateThrottle

from digits.preprocess import normalize_digit_image
from feedback.models import Feedback
from feedback.tests.conftest import draw_seven

pytestmark = pytest.mark.django_db


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def blank_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (64, 64), 255).save(buffer, format="PNG")
    return buffer.getvalue()


def test_json_drawing_is_stored_with_its_png_input_and_guess(post_feedback, seven_png, seven_data_url):
    response = post_feedback({"image": seven_data_url, "label": 7, "predicted": 1, "model": "cnn"})

    assert response.status_code == 201
    row = Feedback.objects.get(pk=response.json()["id"])
    assert bytes(row.image_png) == seven_png
    np.testing.assert_allclose(row.input_array(), normalize_digit_image(seven_png), atol=1e-6)
    assert (row.label, row.predicted, row.model_name) == (7, 1, "cnn")
    assert row.created_at is not None
    assert row.is_correct is False


def test_multipart_jpeg_upload_is_stored_as_png(client):
    jpeg = draw_seven("JPEG")
    upload = io.BytesIO(jpeg)
    upload.name = "seven.jpg"

    response = client.post("/feedback", {"image": upload, "label": "7", "model": "knn"})

    assert response.status_code == 201, response.json()
    row = Feedback.objects.get(pk=response.json()["id"])
    stored = Image.open(io.BytesIO(bytes(row.image_png)))
    assert stored.format == "PNG"
    assert stored.size == (200, 200)
    assert (row.label, row.predicted, row.model_name) == (7, None, "knn")


def test_pixels_are_rendered_as_a_28x28_png(post_feedback):
    pixels = np.zeros((28, 28), dtype=np.float32)
    pixels[6:22, 12:16] = 1.0

    response = post_feedback({"pixels": (pixels * 255).astype(int).tolist(), "label": 1, "predicted": 1})

    assert response.status_code == 201
    row = Feedback.objects.get(pk=response.json()["id"])
    np.testing.assert_array_equal(row.input_array(), pixels)
    drawing = np.asarray(Image.open(io.BytesIO(bytes(row.image_png))))
    np.testing.assert_array_equal(drawing, (pixels * 255).astype(np.uint8))


def test_stats_count_labels_and_per_model_accuracy(client, post_feedback, seven_data_url):
    for label, predicted, model in [(7, 7, "cnn"), (7, 1, "cnn"), (3, 3, "knn"), (2, None, None), (5, 5, None)]:
        body = {"image": seven_data_url, "label": label, "predicted": predicted, "model": model}
        assert post_feedback(body).status_code == 201

    response = client.get("/feedback/stats")

    assert response.status_code == 200
    assert response.json() == {
        "count": 5,
        "by_label": {"0": 0, "1": 0, "2": 1, "3": 1, "4": 0, "5": 1, "6": 0, "7": 2, "8": 0, "9": 0},
        "model_accuracy": {"cnn": 0.5, "knn": 1.0},
        "numbers": 0,
    }


def test_stats_of_an_empty_database(client):
    assert client.get("/feedback/stats").json() == {
        "count": 0,
        "by_label": {str(digit): 0 for digit in range(10)},
        "model_accuracy": {},
        "numbers": 0,
    }


BAD_JSON_BODIES = {
    "label missing": ({"pixels": [0.5] * 784}, 400, "invalid_request"),
    "label too big": ({"pixels": [0.5] * 784, "label": 10}, 400, "invalid_request"),
    "label negative": ({"pixels": [0.5] * 784, "label": -1}, 400, "invalid_request"),
    "label boolean": ({"pixels": [0.5] * 784, "label": True}, 400, "invalid_request"),
    "label string": ({"pixels": [0.5] * 784, "label": "7"}, 400, "invalid_request"),
    "label float": ({"pixels": [0.5] * 784, "label": 7.0}, 400, "invalid_request"),
    "label null": ({"pixels": [0.5] * 784, "label": None}, 400, "invalid_request"),
    "label list": ({"pixels": [0.5] * 784, "label": [7]}, 400, "invalid_request"),
    "predicted too big": ({"pixels": [0.5] * 784, "label": 7, "predicted": 12}, 400, "invalid_request"),
    "predicted boolean": ({"pixels": [0.5] * 784, "label": 7, "predicted": False}, 400, "invalid_request"),
    "model not a string": ({"pixels": [0.5] * 784, "label": 7, "model": 5}, 400, "invalid_request"),
    "model too long": ({"pixels": [0.5] * 784, "label": 7, "model": "m" * 65}, 400, "invalid_request"),
    "unknown model": ({"pixels": [0.5] * 784, "label": 7, "model": "resnet"}, 404, "unknown_model"),
    "no drawing": ({"label": 7}, 400, "invalid_request"),
    "image and pixels": ({"image": "aGk=", "pixels": [0.5] * 784, "label": 7}, 400, "invalid_request"),
    "image not base64": ({"image": "not base64 at all!", "label": 7}, 400, "invalid_image"),
    "image not an image": ({"image": b64(b"hello, world"), "label": 7}, 400, "invalid_image"),
    "image not a string": ({"image": 42, "label": 7}, 400, "invalid_image"),
    "data URL of text": ({"image": "data:text/plain;base64,aGk=", "label": 7}, 400, "invalid_image"),
    "blank canvas": ({"image": b64(blank_png()), "label": 7}, 400, "empty_image"),
    "pixels wrong shape": ({"pixels": [0.5] * 100, "label": 7}, 400, "invalid_pixels"),
    "pixels strings": ({"pixels": ["a"] * 784, "label": 7}, 400, "invalid_pixels"),
    "pixels out of range": ({"pixels": [300] * 784, "label": 7}, 400, "invalid_pixels"),
    "body is a list": ([{"pixels": [0.5] * 784, "label": 7}], 400, "invalid_request"),
    "body is a number": (7, 400, "invalid_request"),
}


@pytest.mark.parametrize(("body", "status", "code"), BAD_JSON_BODIES.values(), ids=BAD_JSON_BODIES.keys())
def test_bad_json_is_refused_and_nothing_is_stored(post_feedback, body, status, code):
    response = post_feedback(body)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert Feedback.objects.count() == 0


def test_image_over_25_megapixels_is_refused_before_decoding(post_feedback, huge_png):
    response = post_feedback({"image": b64(huge_png), "label": 7})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert Feedback.objects.count() == 0


def test_malformed_json_is_refused(client):
    response = client.post("/feedback", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert Feedback.objects.count() == 0


def test_unsupported_media_type_is_refused(client):
    response = client.post("/feedback", "label=7", content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_body_over_5_mb_is_refused_before_reading(client):
    body = b'{"label": 7, "pixels": "' + b"0" * (5 * 1024 * 1024) + b'"}'

    response = client.post("/feedback", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert Feedback.objects.count() == 0


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"label": "x"}, "invalid_request"),
        ({"label": "7.5"}, "invalid_request"),
        ({"label": "11"}, "invalid_request"),
        ({"label": "7", "predicted": "true"}, "invalid_request"),
        ({"label": "7", "model": "nope"}, "unknown_model"),
    ],
)
def test_bad_multipart_fields_are_refused(client, seven_png, form, code):
    upload = io.BytesIO(seven_png)
    upload.name = "seven.png"

    response = client.post("/feedback", {"image": upload, **form})

    assert response.status_code in {400, 404}
    assert response.json()["error"]["code"] == code
    assert Feedback.objects.count() == 0


def test_multipart_file_that_is_not_an_image_is_refused(client):
    upload = io.BytesIO(b"%PDF-1.4 not a picture")
    upload.name = "seven.png"

    response = client.post("/feedback", {"image": upload, "label": "7"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_image"
    assert Feedback.objects.count() == 0


def test_get_on_the_create_route_is_not_allowed(client):
    response = client.get("/feedback")

    assert response.status_code == 405
    assert "error" in response.json()


# The throttle counts per fixed window of the rate's period: with a minute, the requests could fall
# on both sides of a minute's turn and all pass; a day makes that next to impossible.
def test_feedback_is_throttled_per_client(post_feedback, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "feedback", "2/day")
    body = {"pixels": [0.5] * 784, "label": 4}

    statuses = [post_feedback(body, REMOTE_ADDR="10.0.0.1").status_code for _ in range(3)]
    refused = post_feedback(body, REMOTE_ADDR="10.0.0.1")
    other_client = post_feedback(body, REMOTE_ADDR="10.0.0.2")

    assert statuses == [201, 201, 429]
    assert refused.json()["error"]["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    assert other_client.status_code == 201
    assert Feedback.objects.count() == 3


def test_a_forged_forwarded_for_header_does_not_escape_the_throttle(post_feedback, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "feedback", "2/day")
    body = {"pixels": [0.5] * 784, "label": 4}
    statuses = [
        post_feedback(body, REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}").status_code for i in range(3)
    ]
    assert statuses == [201, 201, 429]


def test_database_down_answers_503_and_stores_nothing(client, post_feedback):
    down = OperationalError("could not connect to server: Connection refused")
    with mock.patch.object(connections["default"], "_cursor", side_effect=down):
        created = post_feedback({"pixels": [0.5] * 784, "label": 4})
        stats = client.get("/feedback/stats")

    for response in (created, stats):
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "database_unavailable"
    assert Feedback.objects.count() == 0


def test_a_failing_insert_leaves_nothing_behind(post_feedback):
    with mock.patch.object(Feedback.objects, "create", side_effect=OperationalError("disk I/O error")):
        response = post_feedback({"pixels": [0.5] * 784, "label": 4})

    assert response.status_code == 503
    assert Feedback.objects.count() == 0
