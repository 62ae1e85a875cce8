"""The benchmarks upload what the page sends: an opaque RGBA PNG at the server's working side that
reads as the drawing itself."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bench.uploads import (
    CONTENT_TYPE,
    PAGE_EXPORT_SIDE,
    as_page_export,
    canvas_digit_upload,
    phone_digit_upload,
    upload,
    upload_body,
)
from digits.data import load_mnist
from digits.preprocess import normalize_digit_image
from digits.synthetic import render_canvas_digit


@pytest.mark.parametrize(("upload_of", "canvas_size"), [(canvas_digit_upload, 280), (phone_digit_upload, 840)])
def test_the_upload_is_the_pages_export_of_the_same_drawing(upload_of, canvas_size):
    """An opaque RGBA PNG at the server's working side, whose input is close to the full drawing's."""
    mnist = load_mnist()
    upload = upload_of(mnist, np.random.default_rng(0))
    image = Image.open(io.BytesIO(upload))
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (PAGE_EXPORT_SIDE, PAGE_EXPORT_SIDE))
    assert image.getchannel("A").getextrema() == (255, 255)
    drawing = render_canvas_digit(mnist.x_test[0], np.random.default_rng(0), size=canvas_size)
    assert np.abs(normalize_digit_image(upload) - normalize_digit_image(drawing)).mean() < 0.03


def test_a_picture_smaller_than_the_working_side_is_sent_as_drawn():
    small = io.BytesIO()
    Image.new("L", (64, 90), 255).save(small, "PNG")
    assert Image.open(io.BytesIO(as_page_export(small.getvalue()))).size == (64, 90)


def test_an_upload_request_posts_the_body_written_beside_it(tmp_path):
    png = b"\x89PNG-bytes"
    request, body = upload(tmp_path, png, model="cnn_mcd", path="/predict/number")
    assert (request.path, request.method, request.content_type) == ("/predict/number", "POST", CONTENT_TYPE)
    assert request.body is not None and request.body.read_bytes() == body == upload_body(png, model="cnn_mcd")
    assert b'name="model"\r\n\r\ncnn_mcd\r\n' in body and png in body
