"""POST /predict in each of the contract's forms, answered like the `digits` library would."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from digits.manifest import read_manifest
from digits.preprocess import normalize_digit_image
from digits.runtime import load_runtime

pytestmark = pytest.mark.usefixtures("tiny_models")


def runtime_of(models_dir, name):
    entry = next(m for m in read_manifest(models_dir)["models"] if m["name"] == name)
    return load_runtime(models_dir, entry)


def assert_is_an_answer(body: dict, model: str) -> None:
    assert body["model"] == model
    assert len(body["probabilities"]) == 10
    assert sum(body["probabilities"]) == pytest.approx(1.0, abs=1e-6)
    assert body["digit"] == int(np.argmax(body["probabilities"]))
    assert body["confidence"] == pytest.approx(max(body["probabilities"]))
    assert isinstance(body["not_a_digit"], bool)
    assert body["elapsed_ms"] >= 0


def test_multipart_upload_is_classified(api_client, canvas_png) -> None:
    upload = SimpleUploadedFile("digit.png", canvas_png, content_type="image/png")
    response = api_client.post("/predict", {"image": upload, "model": "ann"}, format="multipart")
    assert response.status_code == 200, response.content
    assert_is_an_answer(response.json(), "ann")
    assert "uncertainty" not in response.json() and "input" not in response.json()


@pytest.mark.parametrize("prefix", ["", "data:image/png;base64,"])
def test_json_base64_and_data_url_are_classified(api_client, canvas_png, prefix) -> None:
    body = {"image": prefix + base64.b64encode(canvas_png).decode(), "model": "knn"}
    response = api_client.post("/predict", body, format="json")
    assert response.status_code == 200, response.content
    assert_is_an_answer(response.json(), "knn")


def test_without_a_model_the_default_answers(api_client, mnist_sample) -> None:
    response = api_client.post("/predict", {"pixels": mnist_sample[0][0].tolist()}, format="json")
    assert response.status_code == 200
    assert response.json()["model"] == "knn"


def test_api_answers_exactly_as_the_library(api_client, tiny_models, canvas_png, mnist_sample) -> None:
    """Same image, same model: the probabilities through HTTP equal the library's own."""
    images, _ = mnist_sample
    for name in ("ann", "knn"):
        runtime = runtime_of(tiny_models, name)
        expected_image = runtime.predict(normalize_digit_image(canvas_png)[None]).probabilities[0]
        upload = SimpleUploadedFile("digit.png", canvas_png, content_type="image/png")
        got = api_client.post("/predict", {"image": upload, "model": name}, format="multipart").json()
        np.testing.assert_allclose(got["probabilities"], expected_image, atol=1e-6)
        expected_pixels = runtime.predict(images[:5]).probabilities
        body = {"model": name, "instances": [{"pixels": image.tolist()} for image in images[:5]]}
        got = api_client.post("/predict", body, format="json").json()["predictions"]
        np.testing.assert_allclose([p["probabilities"] for p in got], expected_pixels, atol=1e-5)


def test_pixels_0_255_nested_and_flat_answer_alike(api_client, mnist_sample) -> None:
    image = mnist_sample[0][3]
    answers = [
        api_client.post("/predict", {"pixels": pixels, "model": "ann"}, format="json").json()
        for pixels in (image.tolist(), (image * 255).round().tolist(), image.reshape(-1).tolist())
    ]
    for answer in answers:
        assert_is_an_answer(answer, "ann")
    np.testing.assert_allclose(answers[0]["probabilities"], answers[2]["probabilities"], atol=1e-6)
    np.testing.assert_allclose(answers[0]["probabilities"], answers[1]["probabilities"], atol=1e-2)


def test_batch_answers_each_instance_in_order(api_client, mnist_sample, canvas_png) -> None:
    images, _ = mnist_sample
    instances = [{"pixels": image.tolist()} for image in images[:10]]
    instances.append({"image": base64.b64encode(canvas_png).decode()})
    response = api_client.post("/predict", {"model": "knn", "instances": instances}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["model"] == "knn" and len(body["predictions"]) == 11
    for answer in body["predictions"]:
        assert_is_an_answer(answer, "knn")
    single = api_client.post("/predict", {"model": "knn", "pixels": images[4].tolist()}, format="json").json()
    np.testing.assert_allclose(body["predictions"][4]["probabilities"], single["probabilities"], atol=1e-6)


def test_a_full_batch_of_256_is_accepted(api_client, mnist) -> None:
    instances = [{"pixels": image.tolist()} for image in mnist.x_test[:256]]
    response = api_client.post("/predict", {"model": "ann", "instances": instances}, format="json")
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 256


def test_grid_client_form_is_classified(api_client, mnist_sample) -> None:
    grid = "".join("1" if value > 0.5 else "0" for value in mnist_sample[0][0].reshape(-1))
    response = api_client.post("/predict", {"digit": grid, "model": "knn"})  # x-www-form-urlencoded
    assert response.status_code == 200, response.content
    assert_is_an_answer(response.json(), "knn")


def test_return_input_gives_the_28x28_the_model_saw(api_client, canvas_png) -> None:
    body = {"image": base64.b64encode(canvas_png).decode(), "model": "knn", "return_input": True}
    seen = np.array(api_client.post("/predict", body, format="json").json()["input"])
    assert seen.shape == (28, 28)
    np.testing.assert_allclose(seen, normalize_digit_image(canvas_png), atol=1e-4)
    upload = SimpleUploadedFile("digit.png", canvas_png, content_type="image/png")
    form = api_client.post("/predict", {"image": upload, "return_input": "true"}, format="multipart").json()
    assert np.array(form["input"]).shape == (28, 28)


def test_monte_carlo_model_reports_its_uncertainty(api_client, mnist_sample) -> None:
    body = api_client.post("/predict", {"pixels": mnist_sample[0][0].tolist(), "model": "ann_mcd"}, format="json")
    uncertainty = body.json()["uncertainty"]
    assert len(uncertainty["std"]) == 10 and all(value >= 0 for value in uncertainty["std"])
    assert 0 <= uncertainty["predictive_entropy"] <= np.log(10) + 1e-6


def test_not_a_digit_follows_the_library_rule(api_client, tiny_models, mnist_sample) -> None:
    from digits.notadigit import DECISION, not_a_digit_scores

    images, _ = mnist_sample
    runtime = runtime_of(tiny_models, "ann")
    entry = next(m for m in read_manifest(tiny_models)["models"] if m["name"] == "ann")
    expected = not_a_digit_scores(images, runtime.predict(images), entry.get("not_a_digit")) > DECISION
    body = {"model": "ann", "instances": [{"pixels": image.tolist()} for image in images]}
    got = [p["not_a_digit"] for p in api_client.post("/predict", body, format="json").json()["predictions"]]
    assert got == expected.tolist()


def test_cors_allows_the_user_server_origin(api_client, mnist_sample) -> None:
    origin = "http://127.0.0.1:8000"
    preflight = api_client.options(
        "/predict",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert preflight["Access-Control-Allow-Origin"] == origin
    response = api_client.post("/predict", {"pixels": mnist_sample[0][0].tolist()}, format="json", HTTP_ORIGIN=origin)
    assert response["Access-Control-Allow-Origin"] == origin
    other = api_client.get("/list", HTTP_ORIGIN="http://evil.example")
    assert "Access-Control-Allow-Origin" not in other
