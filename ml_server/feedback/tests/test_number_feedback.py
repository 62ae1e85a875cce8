"""POST /feedback/number: a whole number confirmed or corrected on the page, with each digit's box."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image, ImageDraw

from feedback.models import NumberFeedback

pytestmark = pytest.mark.django_db


def number_png(width: int = 240, height: int = 120) -> bytes:
    """A 1 and a 7 side by side, black on white, as the page's canvas sends them."""
    image = Image.new("RGB", (width, height), "white")
    pen = ImageDraw.Draw(image)
    pen.line([(60, 20), (60, 100)], fill="black", width=10)
    pen.line([(130, 25), (200, 25), (150, 100)], fill="black", width=10)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def body(**changes: object) -> dict:
    digits = [
        {"label": 1, "predicted": 1, "box": [50, 15, 21, 90]},
        {"label": 7, "predicted": 2, "box": [125, 20, 80, 85]},
    ]
    return {"image": data_url(number_png()), "digits": digits, "model": "cnn", **changes}


def test_a_corrected_number_is_stored_with_its_boxes_labels_and_guesses(post_feedback):
    response = post_feedback(body(), path="/feedback/number")

    assert response.status_code == 201, response.json()
    row = NumberFeedback.objects.get(pk=response.json()["id"])
    assert bytes(row.image_png) == number_png()
    assert (row.label, row.predicted, row.model_name) == ("17", "12", "cnn")
    assert row.digits[1] == {"label": 7, "predicted": 2, "box": [125, 20, 80, 85]}


def test_a_confirmed_number_without_guesses_is_stored_and_counted(post_feedback, client):
    digits = [{"label": 1, "box": [50, 15, 21, 90]}]
    response = post_feedback(body(digits=digits, model=None), path="/feedback/number")

    assert response.status_code == 201, response.json()
    row = NumberFeedback.objects.get(pk=response.json()["id"])
    assert (row.label, row.predicted, row.model_name) == ("1", None, "")
    assert client.get("/feedback/stats").json()["numbers"] == 1


def test_a_jpeg_number_is_stored_as_png(post_feedback):
    buffer = io.BytesIO()
    Image.open(io.BytesIO(number_png())).save(buffer, format="JPEG")
    response = post_feedback(body(image=data_url(buffer.getvalue())), path="/feedback/number")

    assert response.status_code == 201, response.json()
    stored = Image.open(io.BytesIO(bytes(NumberFeedback.objects.get().image_png)))
    assert (stored.format, stored.size) == ("PNG", (240, 120))


BAD_BODIES = {
    "no digits": (body(digits=[]), 400, "invalid_request"),
    "digits not a list": (body(digits="17"), 400, "invalid_request"),
    "label too big": (body(digits=[{"label": 10, "box": [0, 0, 5, 5]}]), 400, "invalid_request"),
    "label a string": (body(digits=[{"label": "1", "box": [0, 0, 5, 5]}]), 400, "invalid_request"),
    "box of three": (body(digits=[{"label": 1, "box": [0, 0, 5]}]), 400, "invalid_request"),
    "box negative": (body(digits=[{"label": 1, "box": [-1, 0, 5, 5]}]), 400, "invalid_request"),
    "box empty": (body(digits=[{"label": 1, "box": [0, 0, 0, 5]}]), 400, "invalid_request"),
    "box past the picture": (body(digits=[{"label": 1, "box": [200, 0, 50, 5]}]), 400, "invalid_request"),
    "too many digits": (body(digits=[{"label": 1, "box": [0, 0, 5, 5]}] * 33), 400, "invalid_request"),
    "no image": ({"digits": body()["digits"]}, 400, "invalid_request"),
    "not an image": (body(image=data_url(b"hello")), 400, "invalid_image"),
    "unknown model": (body(model="nope"), 404, "unknown_model"),
}


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_bad_number_feedback_is_refused_with_a_clear_error(post_feedback, name):
    payload, status_code, code = BAD_BODIES[name]

    response = post_feedback(payload, path="/feedback/number")

    assert response.status_code == status_code, response.json()
    assert response.json()["error"]["code"] == code
    assert not NumberFeedback.objects.exists()
