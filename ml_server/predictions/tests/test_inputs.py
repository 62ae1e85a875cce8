"""`predictions.inputs`: every way a request describes one digit, and every way it can be wrong."""

from __future__ import annotations

import base64
from io import BytesIO

import numpy as np
import pytest
from core.errors import ApiError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from PIL import Image

from digits.preprocess import normalize_digit_image
from predictions.inputs import MAX_INSTANCES, parse_digit_input, parse_instances, requested_model, wants_input


def error_of(data: object, files: dict | None = None) -> ApiError:
    with pytest.raises(ApiError) as caught:
        parse_digit_input(data, files)
    return caught.value


def test_uploaded_file_keeps_its_bytes_and_is_normalized(canvas_png: bytes) -> None:
    upload = SimpleUploadedFile("seven.png", canvas_png, content_type="image/png")
    digit = parse_digit_input(QueryDict("model=knn"), {"image": upload})
    assert digit.image_bytes == canvas_png
    np.testing.assert_array_equal(digit.pixels, normalize_digit_image(canvas_png))


@pytest.mark.parametrize("prefix", ["", "data:image/png;base64,", "DATA:image/PNG;base64,"])
def test_base64_and_data_url_give_the_same_input(canvas_png: bytes, prefix: str) -> None:
    digit = parse_digit_input({"image": prefix + base64.b64encode(canvas_png).decode()})
    assert digit.image_bytes == canvas_png
    np.testing.assert_array_equal(digit.pixels, normalize_digit_image(canvas_png))


def test_pixels_in_0_255_and_0_1_and_flat_agree(mnist_sample) -> None:
    images, _ = mnist_sample
    as_255 = parse_digit_input({"pixels": (images[0] * 255).round().tolist()}).pixels
    as_unit = parse_digit_input({"pixels": images[0].tolist()}).pixels
    flat = parse_digit_input({"pixels": images[0].reshape(-1).tolist()}).pixels
    np.testing.assert_allclose(as_255, images[0], atol=1 / 255)
    np.testing.assert_array_equal(as_unit, flat)
    assert parse_digit_input({"pixels": images[0].tolist()}).image_bytes is None


def test_grid_form_is_cropped_and_centred_like_a_drawing() -> None:
    grid = np.zeros((28, 28), dtype=int)
    grid[2:12, 3:5] = 1  # a short bar in the top-left corner
    digit = parse_digit_input(QueryDict("digit=" + "".join(map(str, grid.reshape(-1)))))
    rows = np.flatnonzero(digit.pixels.any(axis=1))
    assert rows[-1] - rows[0] + 1 == 20  # scaled to MNIST's 20 px box
    assert 10 <= np.average(np.arange(28), weights=digit.pixels.sum(axis=1)) <= 18  # centred


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"image": "not base64 !!"}, "invalid_image"),
        ({"image": "data:text/plain;base64,aGVsbG8="}, "invalid_image"),
        ({"image": "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="}, "invalid_image"),
        ({"image": "data:image/png,rawbytes"}, "invalid_image"),
        ({"image": 12}, "invalid_image"),
        ({"image": ""}, "invalid_image"),
        ({"image": base64.b64encode(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").decode()}, "invalid_image"),
        ({"pixels": [[0.5] * 28] * 27}, "invalid_pixels"),
        ({"pixels": [0.5] * 783}, "invalid_pixels"),
        ({"pixels": ["0.5"] * 784}, "invalid_pixels"),
        ({"pixels": [True] * 784}, "invalid_pixels"),
        ({"pixels": [None] * 784}, "invalid_pixels"),
        ({"pixels": [float("nan")] * 784}, "invalid_pixels"),
        ({"pixels": [float("inf")] * 784}, "invalid_pixels"),
        ({"pixels": [-1] * 784}, "invalid_pixels"),
        ({"pixels": [256] * 784}, "invalid_pixels"),
        ({"pixels": [10**400] * 784}, "invalid_pixels"),
        ({"pixels": [[1, 2], [3]]}, "invalid_pixels"),
        ({"pixels": "0" * 784}, "invalid_pixels"),
        ({"digit": "01" * 100}, "invalid_pixels"),
        ({"digit": "2" * 784}, "invalid_pixels"),
        ({"digit": "0" * 784}, "empty_image"),
        ({}, "invalid_request"),
        ({"pixels": [0] * 784, "image": "aGVsbG8="}, "invalid_request"),
        ([1, 2, 3], "invalid_request"),
        ("text", "invalid_request"),
    ],
)
def test_bad_input_names_its_contract_code(data: object, code: str) -> None:
    error = error_of(data)
    assert (error.code, error.status_code) == (code, 400)


def test_truncated_png_is_an_invalid_image(canvas_png: bytes) -> None:
    assert error_of({"image": base64.b64encode(canvas_png[: len(canvas_png) // 2]).decode()}).code == "invalid_image"


def test_blank_canvas_is_an_empty_image() -> None:
    buffer = BytesIO()
    Image.new("RGB", (280, 280), "white").save(buffer, format="PNG")
    assert error_of({"image": base64.b64encode(buffer.getvalue()).decode()}).code == "empty_image"


def test_a_huge_image_is_refused_with_413_from_its_header(huge_png: bytes) -> None:
    error = error_of({"image": base64.b64encode(huge_png).decode()})
    assert (error.code, error.status_code) == ("too_large", 413)


def test_instances_are_limited_and_errors_name_the_instance() -> None:
    assert len(parse_instances([{"pixels": [0] * 784}] * MAX_INSTANCES)) == MAX_INSTANCES
    for value in ([], "x", [{"pixels": [0] * 784}] * (MAX_INSTANCES + 1)):
        with pytest.raises(ApiError) as caught:
            parse_instances(value)
        assert caught.value.code == "invalid_request"
    with pytest.raises(ApiError) as caught:
        parse_instances([{"pixels": [0] * 784}, {"pixels": [-5] * 784}])
    assert caught.value.code == "invalid_pixels" and caught.value.message.startswith("instances[1]")


def test_model_and_return_input_fields() -> None:
    assert requested_model({}) is None and requested_model({"model": ""}) is None
    assert requested_model({"model": 7}) == 7  # the registry calls it unknown
    assert wants_input({"return_input": True}) and wants_input(QueryDict("return_input=true"))
    assert not wants_input({"return_input": "no"}) and not wants_input({})
