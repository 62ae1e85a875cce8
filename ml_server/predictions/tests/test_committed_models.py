"""The committed models in `models/` answer MNIST-like digits right through the API."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from digits.config import MODELS_DIR
from digits.manifest import ManifestError, read_manifest
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
