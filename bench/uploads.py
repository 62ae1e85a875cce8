"""What the benchmarks upload: the project's drawings encoded the way a browser sends them."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from bench.load import Request, multipart_body
from digits.data import Mnist
from digits.preprocess import WORKING_SIDE
from digits.synthetic import CANVAS_SIZE, render_canvas_digit

BOUNDARY = "----digits-bench-7d3f9a"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
PAGE_EXPORT_SIDE = WORKING_SIDE  # picture.js MAX_SHORTER_SIDE


def as_page_export(png: bytes) -> bytes:
    """The picture as the page sends it (`picture.js`, `shrunkPng`): painted white, its shorter side
    shrunk with smoothing to the server's working side (a picture already smaller stays as drawn), and
    encoded by `canvas.toBlob("image/png")`: an opaque RGBA PNG."""
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    scale = PAGE_EXPORT_SIDE / min(image.size)
    if scale < 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def canvas_digit_upload(mnist: Mnist, rng: np.random.Generator) -> bytes:
    """The benchmarks' one digit: the first MNIST test digit drawn on a 280x280 canvas, as the page sends it."""
    return as_page_export(render_canvas_digit(mnist.x_test[0], rng))


def phone_digit_upload(mnist: Mnist, rng: np.random.Generator) -> bytes:
    """The same digit from a phone: drawn on a canvas of 3x pixel density (840x840), as the page sends it."""
    return as_page_export(render_canvas_digit(mnist.x_test[0], rng, size=3 * CANVAS_SIZE))


def upload_body(png: bytes, *, model: str) -> bytes:
    """The multipart body (CONTENT_TYPE) the page posts: the picture as the file `image`, and `model`."""
    return multipart_body({"model": model}, {"image": ("canvas.png", "image/png", png)}, BOUNDARY)


def upload(workdir: Path, png: bytes, *, model: str, path: str = "/predict") -> tuple[Request, bytes]:
    """The upload as a wrk request to `path` (its body written to a file in `workdir`), and the body."""
    body = upload_body(png, model=model)
    body_file = workdir / f"{path.strip('/').replace('/', '-')}-{model}.body"
    body_file.write_bytes(body)
    return Request(path, "POST", body_file, CONTENT_TYPE), body
