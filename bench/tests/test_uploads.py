"""The benchmarks upload what the page sends: an opaque RGBA PNG that reads as the drawing itself."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from bench.uploads import CONTENT_TYPE, canvas_digit_upload, upload, upload_body
from digits.data import load_mnist
from digits.preprocess import normalize_digit_image
from digits.synthetic import render_canvas_digit


def test_the_upload_is_an_opaque_rgba_png_of_the_same_drawing():
    mnist = load_mnist()
    upload = canvas_digit_upload(mnist, np.random.default_rng(0))
    image = Image.open(io.BytesIO(upload))
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (280, 280))
    assert image.getchannel("A").getextrema() == (255, 255)
    drawing = render_canvas_digit(mnist.x_test[0], np.random.default_rng(0))
    assert np.array_equal(normalize_digit_image(upload), normalize_digit_image(drawing))


def test_an_upload_request_posts_the_body_written_beside_it(tmp_path):
    png = b"\x89PNG-bytes"
    request, body = upload(tmp_path, png, model="cnn_mcd", path="/predict/number")
    assert (request.path, request.method, request.content_type) == ("/predict/number", "POST", CONTENT_TYPE)
    assert request.body is not None and request.body.read_bytes() == body == upload_body(png, model="cnn_mcd")
    assert b'name="model"\r\n\r\ncnn_mcd\r\n' in body and png in body
