"""/list, /health, /ready, /metrics, /schema and /docs."""

from __future__ import annotations

import re
import time

import pytest
import yaml
from drf_spectacular.validation import validate_schema

from predictions.registry import get_registry

pytestmark = pytest.mark.usefixtures("tiny_models")
MODEL_FIELDS = {"name", "display_name", "family", "format", "size_bytes", "metrics", "uncertainty", "loaded"}


def test_list_describes_every_model(api_client, tiny_models) -> None:
    body = api_client.get("/list").json()
    assert body["default"] == "knn"
    models = {m["name"]: m for m in body["models"]}
    assert set(models) == {"ann", "ann_mcd", "knn"}
    for model in models.values():
        assert set(model) >= MODEL_FIELDS
        assert model["size_bytes"] == (tiny_models / f"{model['name']}.{model['format']}").stat().st_size
        assert 0 <= model["metrics"]["mnist_test_accuracy"] <= 1
    assert (models["ann"]["family"], models["ann"]["format"], models["knn"]["format"]) == ("keras", "h5", "pkl")
    assert models["ann_mcd"]["uncertainty"] is True and models["ann"]["uncertainty"] is False


def test_list_detail_is_one_model(api_client) -> None:
    assert api_client.get("/list/ann_mcd").json() == next(
        m for m in api_client.get("/list").json()["models"] if m["name"] == "ann_mcd"
    )


def test_health_is_ok_at_once(api_client) -> None:
    response = api_client.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.usefixtures("models_copy")  # a fresh registry: nothing loaded yet
def test_ready_turns_200_once_the_default_model_is_loaded(api_client) -> None:
    first = api_client.get("/ready")  # nothing loaded yet: 503, and loading starts in the background
    assert first.status_code == 503 and first.json()["status"] == "not_ready"
    deadline = time.monotonic() + 60
    while not get_registry().default_loaded() and time.monotonic() < deadline:
        time.sleep(0.05)
    response = api_client.get("/ready")
    assert (response.status_code, response.json()) == (200, {"status": "ready", "model": "knn"})


def test_ready_is_503_when_the_default_model_is_broken(api_client, models_copy) -> None:
    (models_copy / "knn.pkl").write_bytes(b"broken")
    get_registry().load_default()
    response = api_client.get("/ready")
    assert response.status_code == 503 and "sha256" in response.json()["error"]["message"]


def test_metrics_count_requests_latency_errors_and_loaded_models(api_client) -> None:
    api_client.post("/predict", {"pixels": [0.0] * 784, "model": "knn"}, format="json")
    api_client.post("/predict", {"pixels": [0.0] * 784, "model": "nope"}, format="json")
    response = api_client.get("/metrics")
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.content.decode()
    assert re.search(r'^ml_requests_total\{endpoint="predict",model="knn",status="200"\} [1-9]', text, re.M)
    assert re.search(r'^ml_request_duration_seconds_count\{endpoint="predict",model="knn"\} [1-9]', text, re.M)
    assert re.search(r'^ml_request_duration_seconds_bucket\{endpoint="predict",le="\+Inf",model="knn"\}', text, re.M)
    assert re.search(r'^ml_errors_total\{code="unknown_model",status="404"\} [1-9]', text, re.M)
    assert re.search(r'^ml_model_loaded\{model="knn"\} 1\.0$', text, re.M)
    assert re.search(r"^ml_models_loaded [1-9]", text, re.M)
    for line in text.splitlines():  # every sample line is `name{labels} number`
        assert line.startswith("#") or re.fullmatch(
            r'[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+', line
        )


def test_schema_is_a_valid_openapi_3_document(api_client) -> None:
    response = api_client.get("/schema")
    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    validate_schema(document)  # drf-spectacular's OpenAPI 3 JSON-schema validation; raises when invalid
    assert document["openapi"].startswith("3.")
    for path in ("/predict", "/predict/number", "/list", "/list/{name}", "/health", "/ready", "/metrics"):
        assert path in document["paths"], path
    predict = document["paths"]["/predict"]["post"]
    assert set(predict["requestBody"]["content"]) == {
        "application/json",
        "multipart/form-data",
        "application/x-www-form-urlencoded",
    }


def test_docs_are_swagger_ui_served_without_any_external_host(api_client) -> None:
    response = api_client.get("/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html.lower()
    external = re.findall(r'(?:src|href)=["\']((?:https?:)?//[^"\']+)', html)
    assert external == []
    assert '"validatorUrl": null' in html  # Swagger UI's online validator badge is switched off
    assets = re.findall(r'(?:src|href)=["\'](/static/[^"\']+)', html)
    assert assets and all(api_client.get(asset).status_code == 200 for asset in assets)
