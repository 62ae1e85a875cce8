"""Malformed, hostile and oversized requests: each gets the contract's JSON error, never a 500 or HTML."""

from __future__ import annotations

import base64
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.throttling import ScopedRateThrottle

pytestmark = pytest.mark.usefixtures("tiny_models")

PIXELS = [0.0] * 784


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"]
    return body


def image_bytes(kind: str, size: tuple[int, int] = (64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, 255).save(buffer, format=kind)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{broken", "invalid_request"),
        ('{"pixels": [1, 2', "invalid_request"),
        ("[1, 2, 3]", "invalid_request"),
        ('"just a string"', "invalid_request"),
        ("null", "invalid_request"),
        ("[" * 100_000 + "]" * 100_000, "invalid_request"),
        ('{"pixels": [NaN' + ", 0" * 783 + "]}", "invalid_pixels"),
        ('{"pixels": [Infinity' + ", 0" * 783 + "]}", "invalid_pixels"),
        ('{"pixels": [1e999' + ", 0" * 783 + "]}", "invalid_pixels"),
        (json.dumps({"pixels": [-0.5] * 784}), "invalid_pixels"),
        (json.dumps({"pixels": ["a"] * 784}), "invalid_pixels"),
        (json.dumps({"pixels": [[0.1] * 28] * 3}), "invalid_pixels"),
        (json.dumps({"image": "%%%not-base64%%%"}), "invalid_image"),
        (json.dumps({"image": "data:text/html;base64,PGI+aGk8L2I+"}), "invalid_image"),
        (json.dumps({"image": base64.b64encode(image_bytes("PNG")[:40]).decode()}), "invalid_image"),
        (json.dumps({"image": base64.b64encode(image_bytes("GIF")).decode()}), "invalid_image"),
        (json.dumps({"image": base64.b64encode(image_bytes("PNG")).decode()}), "empty_image"),
        (json.dumps({"instances": [{"pixels": PIXELS}] * 257}), "invalid_request"),
        (json.dumps({"instances": {"pixels": PIXELS}}), "invalid_request"),
        (json.dumps({"instances": [7]}), "invalid_request"),
        (json.dumps({"nothing": "here"}), "invalid_request"),
        (b"\xff\xfe\x00garbage", "invalid_request"),
    ],
)
def test_bad_json_bodies_get_400(api_client, body, code) -> None:
    error(api_client.post("/predict", body, content_type="application/json"), 400, code)


@pytest.mark.parametrize("model", ["nope", "../../etc/passwd", 7, ["cnn"], {"name": "cnn"}, True])
def test_unknown_or_non_string_models_are_404(api_client, model) -> None:
    error(api_client.post("/predict", {"pixels": PIXELS, "model": model}, format="json"), 404, "unknown_model")


def test_unknown_model_detail_is_404(api_client) -> None:
    error(api_client.get("/list/../../etc/passwd"), 404, "unknown_model")
    error(api_client.get("/list/cnn%00"), 404, "unknown_model")


def test_svg_and_gif_uploads_are_invalid_images(api_client) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="9" height="9"/></svg>'
    for name, data in (("a.svg", svg), ("a.gif", image_bytes("GIF"))):
        upload = SimpleUploadedFile(name, data, content_type="image/png")
        error(api_client.post("/predict", {"image": upload}, format="multipart"), 400, "invalid_image")


def test_a_truncated_png_upload_is_an_invalid_image(api_client, canvas_png) -> None:
    upload = SimpleUploadedFile("cut.png", canvas_png[: len(canvas_png) // 2], content_type="image/png")
    error(api_client.post("/predict", {"image": upload}, format="multipart"), 400, "invalid_image")


def test_a_blank_canvas_is_an_empty_image(api_client) -> None:
    upload = SimpleUploadedFile("blank.png", image_bytes("PNG", (280, 280)), content_type="image/png")
    error(api_client.post("/predict", {"image": upload}, format="multipart"), 400, "empty_image")


def test_an_image_over_25_megapixels_is_413_before_decoding(api_client, huge_png) -> None:
    upload = SimpleUploadedFile("huge.png", huge_png, content_type="image/png")
    error(api_client.post("/predict", {"image": upload}, format="multipart"), 413, "too_large")


def test_a_body_over_5_mb_is_413_from_its_content_length(api_client) -> None:
    body = b'{"pixels": [' + b"0," * (3 * 1024 * 1024) + b"0]}"
    error(api_client.post("/predict", body, content_type="application/json"), 413, "too_large")


def test_a_lying_content_length_is_refused_unread(api_client) -> None:
    response = api_client.generic("POST", "/predict", b"{}", content_type="application/json", CONTENT_LENGTH="99999999")
    error(response, 413, "too_large")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "image/png", "application/octet-stream"])
def test_unsupported_content_types_are_415(api_client, content_type) -> None:
    response = api_client.post("/predict", b"0101", content_type=content_type)
    error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/predict"), ("put", "/predict"), ("delete", "/list"), ("post", "/health"), ("get", "/predict/number")],
)
def test_wrong_methods_are_405(api_client, method, path) -> None:
    error(getattr(api_client, method)(path), 405, "method_not_allowed")


def test_unknown_paths_are_json_404(api_client) -> None:
    error(api_client.get("/no/such/page"), 404, "not_found")
    error(api_client.get("/predict/"), 404, "not_found")


# The throttle counts per fixed window of the rate's period: with a minute, the requests could fall
# on both sides of a minute's turn and all pass; a day makes that next to impossible.
def test_throttled_requests_get_429(api_client, monkeypatch) -> None:
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"predict": "2/day"})
    for _ in range(2):
        assert api_client.post("/predict", {"pixels": PIXELS}, format="json").status_code == 200
    response = api_client.post("/predict", {"pixels": PIXELS}, format="json")
    error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_an_unexpected_failure_is_a_json_500(api_client, monkeypatch) -> None:
    def broken(**_kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr("predictions.apis.model_list", broken)
    api_client.raise_request_exception = False
    error(api_client.get("/list"), 500, "internal_error")


def test_a_multipart_body_without_boundary_is_400(api_client) -> None:
    response = api_client.post("/predict", b"--x\r\n", content_type="multipart/form-data")
    error(response, 400, "invalid_request")


def test_a_form_with_thousands_of_fields_is_400(api_client) -> None:
    body = "&".join(f"f{index}=1" for index in range(5000))
    response = api_client.post("/predict", body, content_type="application/x-www-form-urlencoded")
    error(response, 400, "invalid_request")
