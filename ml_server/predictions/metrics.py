"""Prometheus metrics through `prometheus-client`: requests and latency per endpoint and model,
errors by contract code, models loaded.

With several gunicorn workers each process writes its values to files in
`PROMETHEUS_MULTIPROC_DIR` (gunicorn.conf.py makes a fresh one per master start and cleans up
after a dead worker), and `/metrics`, whichever worker answers it, sums them over all workers.
Without that variable (tests, runserver) the process's own registry is served.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

disable_created_metrics()  # a `_created` sample per series doubles the page for no one's use

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "ml_requests", "HTTP requests served, by endpoint, model and status.", ["endpoint", "model", "status"]
)
LATENCY = Histogram(
    "ml_request_duration_seconds",
    "Time to answer a request, by endpoint and model.",
    ["endpoint", "model"],
    buckets=LATENCY_BUCKETS,
)
ERRORS = Counter("ml_errors", "Error answers, by contract error code.", ["code", "status"])
# Gauges of living workers only: "max" = loaded in at least one worker.
MODEL_LOADED = Gauge(
    "ml_model_loaded", "1 when the model is loaded in a worker, else 0.", ["model"], multiprocess_mode="livemax"
)
MODELS_LOADED = Gauge("ml_models_loaded", "Models loaded, in the worker that has most.", multiprocess_mode="livemax")


def record_loaded(loaded: dict[str, bool]) -> None:
    """This worker's models, by name: loaded or not."""
    for name, up in loaded.items():
        MODEL_LOADED.labels(model=name).set(int(up))
    MODELS_LOADED.set(sum(loaded.values()))


def render() -> bytes:
    """The text exposition: summed over every worker's files in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # what generate_latest writes


class MetricsMiddleware:
    """Times every request; the endpoint is the URL's name, the model is what the view answered with."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        endpoint = match.url_name if match and match.url_name else "other"
        model = str(getattr(response, "metrics_model", "") or "")
        status = str(response.status_code)
        REQUESTS.labels(endpoint=endpoint, model=model, status=status).inc()
        LATENCY.labels(endpoint=endpoint, model=model).observe(time.perf_counter() - started)
        error_code = getattr(response, "error_code", None)
        if error_code:
            ERRORS.labels(code=error_code, status=status).inc()
        return response
