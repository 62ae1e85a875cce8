"""20,000 requests, valid and invalid mixed, at 32 connections against gunicorn with the committed
models: no 5xx, every valid digit read right, memory steady (about 90 s; see bench/mixed_load.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.mixed_load import LOAD_ENV, MEMORY_TOLERANCE, run_load
from digits.config import MODELS_DIR
from digits.manifest import ManifestError, read_manifest

from .live import ml_gunicorn, wait_for_status

pytestmark = pytest.mark.slow


def test_twenty_thousand_mixed_requests_at_32_connections(tmp_path: Path) -> None:
    try:
        read_manifest(MODELS_DIR)
    except ManifestError as error:
        pytest.skip(f"no committed models: {error}")
    with ml_gunicorn(MODELS_DIR, tmp_path / "server.log", **LOAD_ENV) as server:
        wait_for_status(server, "/ready")
        report = run_load(server.port, server.process.pid, requests=20_000, concurrency=32)
    print(report.summary())

    assert sum(report.statuses.values()) == 20_000 and not report.failures
    assert report.server_errors == 0
    assert report.wrong == []
    assert set(report.statuses) >= {200, 400, 404, 415}
    assert report.dropped_valid <= report.valid_pool // 20  # the pool is real digits, not a hand-picked few
    assert abs(report.rss_change) <= MEMORY_TOLERANCE, report.summary()
