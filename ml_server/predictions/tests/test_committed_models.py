"""The committed models in `models/` answer MNIST-like digits right through the API."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from digits.config import MODELS_DIR
from digits.manifest import ManifestError, read_manifest
from digits.paper import paper_photo
from digits.pen_strokes import DIGITS as PEN_DIGITS
from digits.zoo import ZOO

pytestmark = pytest.mark.slow


@pytest.fixture
def committed_models(serve_models) -> set[str]:
    try:
        names = {m["name"] for m in read_manifest(MODELS_DIR)["models"]}
    except ManifestError as error:
        pytest.skip(f"no committed models: {error}")
    serve_models(MODELS_DIR, None)
    return names


@pytest.mark.parametrize("name", list(ZOO))
def test_committed_model_reads_mnist_digits_and_a_canvas_drawing(api_client, committed_models, mnist, canvas_png, name):
    if name not in committed_models:
        pytest.skip(f"{MODELS_DIR}/manifest.json has no {name!r} yet (run `make models`)")
    images, labels = mnist.x_test[:100], mnist.y_test[:100]
    body = {"model": name, "instances": [{"pixels": image.tolist()} for image in images]}
    response = api_client.post("/predict", body, format="json")
    assert response.status_code == 200, response.content
    right = sum(p["digit"] == label for p, label in zip(response.json()["predictions"], labels, strict=True))
    assert right >= 95
    upload = SimpleUploadedFile("seven.png", canvas_png, content_type="image/png")
    answer = api_client.post("/predict", {"image": upload, "model": name}, format="multipart").json()
    assert answer["digit"] == int(mnist.y_test[0]) == 7


@pytest.mark.usefixtures("committed_models")
@pytest.mark.parametrize("digit", sorted(PEN_DIGITS))
def test_a_phone_photo_of_a_digit_written_on_paper_is_read(api_client, digit):
    """Ink on off-white paper under a shadow, JPEG, 1600x1200 (`digits.paper`), uploaded as a file."""
    photo = paper_photo(PEN_DIGITS[digit], seed=int(digit))
    upload = SimpleUploadedFile("photo.jpg", photo, content_type="image/jpeg")
    response = api_client.post("/predict", {"image": upload}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["digit"] == int(digit)
