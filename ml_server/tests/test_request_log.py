"""One JSON log line per request, with the request id the client gets back; crashes logged, not shown."""

from __future__ import annotations

import json
import logging

import pytest

LOGGER = "ml_server.requests"


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [json.loads(record.getMessage()) for record in caplog.records if record.name == LOGGER]


def test_each_request_writes_one_json_line_with_its_id(api_client, caplog) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER):
        response = api_client.get("/health")
    [line] = request_lines(caplog)
    assert line["request_id"] == response["X-Request-ID"]
    assert (line["method"], line["path"], line["status"], line["model"]) == ("GET", "/health", 200, None)
    assert line["latency_ms"] >= 0


@pytest.mark.usefixtures("tiny_models")
def test_a_prediction_line_names_the_model(api_client, caplog) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER):
        response = api_client.post("/predict", {"pixels": [0.0] * 400 + [1.0] * 28 + [0.0] * 356}, format="json")
    assert response.status_code == 200
    [line] = request_lines(caplog)
    assert (line["path"], line["status"], line["model"]) == ("/predict", 200, response.json()["model"])


def test_a_sane_incoming_request_id_is_kept(api_client, caplog) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER):
        response = api_client.get("/health", HTTP_X_REQUEST_ID="proxy-42.a:b")
    assert response["X-Request-ID"] == "proxy-42.a:b"
    assert request_lines(caplog)[0]["request_id"] == "proxy-42.a:b"


@pytest.mark.parametrize("incoming", ["", "x" * 200, 'a"}\n{"forged": 1', "-starts-with-dash", "sp ace"])
def test_an_unsafe_request_id_is_replaced(api_client, incoming) -> None:
    response = api_client.get("/health", HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-ID"] != incoming
    assert len(response["X-Request-ID"]) == 32


def test_client_errors_are_logged_once_as_json(api_client, caplog) -> None:
    with caplog.at_level(logging.INFO):
        response = api_client.post("/predict", b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert [line["status"] for line in request_lines(caplog)] == [400]
    assert not [record for record in caplog.records if record.name == "django.request"]


def test_a_crash_is_logged_with_its_trace_and_hidden_from_the_client(api_client, monkeypatch, caplog) -> None:
    def broken(**_kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr("predictions.apis.model_list", broken)
    with caplog.at_level(logging.INFO):
        response = api_client.get("/list")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "secret internal detail" not in response.content.decode()
    [record] = [record for record in caplog.records if record.name == LOGGER]
    assert record.levelno == logging.ERROR
    assert record.exc_info and "secret internal detail" in str(record.exc_info[1])
    line = json.loads(record.getMessage())
    assert (line["status"], line["error"], line["request_id"]) == (500, "RuntimeError", response["X-Request-ID"])
    assert not [record for record in caplog.records if record.name == "django.request"]


def test_not_found_stays_a_404(api_client, caplog) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert api_client.get("/list/nope").status_code == 404
    assert request_lines(caplog)[0]["status"] == 404
