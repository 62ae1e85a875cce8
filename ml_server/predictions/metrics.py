"""Prometheus metrics of this process, written by hand (text format 0.0.4).

Counters live in one dict under one lock, which is all gunicorn's threads need; with several
worker processes each reports its own figures (the default is one process).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
Labels = tuple[tuple[str, str], ...]


class RequestMetrics:
    """Requests, latency histogram and errors, keyed by label tuples."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[Labels, int] = defaultdict(int)
        self.errors: dict[Labels, int] = defaultdict(int)
        self.latency_buckets: dict[Labels, list[int]] = {}
        self.latency_sum: dict[Labels, float] = defaultdict(float)
        self.latency_count: dict[Labels, int] = defaultdict(int)

    def observe(self, *, endpoint: str, model: str, status: int, seconds: float, error_code: str | None) -> None:
        key = (("endpoint", endpoint), ("model", model))
        with self._lock:
            self.requests[(*key, ("status", str(status)))] += 1
            buckets = self.latency_buckets.setdefault(key, [0] * len(LATENCY_BUCKETS))
            for index, bound in enumerate(LATENCY_BUCKETS):
                if seconds <= bound:
                    buckets[index] += 1
            self.latency_sum[key] += seconds
            self.latency_count[key] += 1
            if error_code:
                self.errors[(("code", error_code), ("status", str(status)))] += 1

    def render(self, models_loaded: dict[str, bool]) -> str:
        with self._lock:
            lines = [
                "# HELP ml_requests_total HTTP requests served, by endpoint, model and status.",
                "# TYPE ml_requests_total counter",
                *(f"ml_requests_total{_labels(key)} {value}" for key, value in sorted(self.requests.items())),
                "# HELP ml_request_duration_seconds Time to answer a request, by endpoint and model.",
                "# TYPE ml_request_duration_seconds histogram",
            ]
            for key in sorted(self.latency_count):
                bounds = [f"{bound:g}" for bound in LATENCY_BUCKETS] + ["+Inf"]
                counts = [*self.latency_buckets[key], self.latency_count[key]]
                for bound, count in zip(bounds, counts, strict=True):
                    lines.append(f"ml_request_duration_seconds_bucket{_labels((*key, ('le', bound)))} {count}")
                lines.append(f"ml_request_duration_seconds_sum{_labels(key)} {self.latency_sum[key]:.6f}")
                lines.append(f"ml_request_duration_seconds_count{_labels(key)} {self.latency_count[key]}")
            lines += [
                "# HELP ml_errors_total Error answers, by contract error code.",
                "# TYPE ml_errors_total counter",
                *(f"ml_errors_total{_labels(key)} {value}" for key, value in sorted(self.errors.items())),
            ]
        lines += [
            "# HELP ml_models_loaded Models loaded in this process.",
            "# TYPE ml_models_loaded gauge",
            f"ml_models_loaded {sum(models_loaded.values())}",
            "# HELP ml_model_loaded 1 when the model is loaded in this process, else 0.",
            "# TYPE ml_model_loaded gauge",
            *(f"ml_model_loaded{_labels((('model', name),))} {int(up)}" for name, up in models_loaded.items()),
        ]
        return "\n".join(lines) + "\n"


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    escaped = (f'{name}="{_escape(value)}"' for name, value in pairs)
    return "{" + ",".join(escaped) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


METRICS = RequestMetrics()


class MetricsMiddleware:
    """Times every request; the endpoint is the URL's name, the model is what the view answered with."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        METRICS.observe(
            endpoint=(match.url_name if match and match.url_name else "other"),
            model=str(getattr(response, "metrics_model", "") or ""),
            status=response.status_code,
            seconds=time.perf_counter() - started,
            error_code=getattr(response, "error_code", None),
        )
        return response
