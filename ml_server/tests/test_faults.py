"""Broken parts against the real server (gunicorn on loopback): the affected part answers its 503,
the rest keeps serving, and nothing stored is lost."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from digits.manifest import read_manifest, sha256_file, write_manifest
from scripts.services import Service, manage
from testsupport.servers import Gunicorn, Postgres, postgres

from .live import ml_gunicorn, post_json, request, wait_for_status

SERVICE_DIR = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
PIXELS = [0.0] * 400 + [1.0] * 28 + [0.0] * 356  # a horizontal bar: any digit will do


def copy_models(tiny_models_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_models_dir, tmp_path / "models"))


def corrupt_with_matching_hash(models_dir: Path, name: str) -> None:
    """Truncate a model file and record its new sha256, so the loader itself meets the garbage."""
    manifest = read_manifest(models_dir)
    entry = next(item for item in manifest["models"] if item["name"] == name)
    path = models_dir / entry["file"]
    path.write_bytes(path.read_bytes()[:200])
    entry["sha256"] = sha256_file(path)
    write_manifest(models_dir, manifest)


def predict(server: Gunicorn, model: str | None = None) -> tuple[int, dict]:
    return post_json(server, "/predict", {"pixels": PIXELS, **({"model": model} if model else {})})


def test_a_corrupt_model_at_start_takes_out_only_itself(tiny_models_dir, tmp_path) -> None:
    models = copy_models(tiny_models_dir, tmp_path)
    corrupt_with_matching_hash(models, "knn")  # the default
    (models / "ann_mcd.tflite").write_bytes(b"\x00" * 64)  # the served export no longer matches its sha256

    with ml_gunicorn(models, tmp_path / "server.log", DEFAULT_MODEL="knn") as server:
        body = wait_for_status(server, "/ready", 503)
        assert body["status"] == "not_ready" and body["error"]["code"] == "model_unavailable"
        for model in (None, "knn", "ann_mcd"):
            status, body = predict(server, model)
            assert (status, body["error"]["code"]) == (503, "model_unavailable"), model
        status, body = predict(server, "ann")
        assert status == 200 and body["model"] == "ann" and body["digit"] in range(10)
        assert request(server, "GET", "/health") == (200, {"status": "ok"})
    assert "model knn failed to load" in (tmp_path / "server.log").read_text()


def test_a_model_file_deleted_while_serving(tiny_models_dir, tmp_path) -> None:
    models = copy_models(tiny_models_dir, tmp_path)
    # One worker: the process that loaded a model is the one asked again after its files are gone.
    with ml_gunicorn(models, tmp_path / "server.log", DEFAULT_MODEL="knn", WEB_CONCURRENCY="1") as server:
        wait_for_status(server, "/ready")
        assert predict(server, "ann")[0] == 200  # loaded now; ann_mcd never is
        for name in ("knn.pkl", "ann.h5", "ann.tflite", "ann_mcd.h5", "ann_mcd.tflite"):
            (models / name).unlink()

        for model in (None, "knn", "ann"):
            status, body = predict(server, model)
            assert status == 200 and body["digit"] in range(10), model
        status, body = predict(server, "ann_mcd")
        assert (status, body["error"]["code"]) == (503, "model_unavailable")
        assert request(server, "GET", "/ready")[0] == 200
    lines = [json.loads(line) for line in (tmp_path / "server.log").read_text().splitlines() if line.startswith("{")]
    assert [line["status"] for line in lines if line["path"] == "/predict"] == [200] * 4 + [503]


# --- the database gone ---------------------------------------------------------------------------


@pytest.fixture(name="postgres")
def postgres_server() -> Iterator[Postgres]:
    with postgres() as server:
        yield server


def test_the_database_gone_and_back_loses_nothing(tiny_models_dir, tmp_path, postgres) -> None:
    env = {"DATABASE_URL": postgres.url, "DEFAULT_MODEL": "knn", "FEEDBACK_THROTTLE_RATE": "1000/min"}
    service = Service("ml_server", SERVICE_DIR, port=0, migrates=True)
    manage(service, {**os.environ, "SECRET_KEY": "migrate-only", **env}, "migrate", "--noinput")
    with ml_gunicorn(tiny_models_dir, tmp_path / "server.log", **env) as server:
        for label in (1, 2, 3):
            assert post_json(server, "/feedback", {"pixels": PIXELS, "label": label})[0] == 201

        postgres.stop()
        status, body = post_json(server, "/feedback", {"pixels": PIXELS, "label": 4})
        assert (status, body["error"]["code"]) == (503, "database_unavailable")
        assert request(server, "GET", "/feedback/stats")[0] == 503
        status, body = predict(server)
        assert status == 200 and body["digit"] in range(10)
        assert request(server, "GET", "/ready")[0] == 200

        postgres.start()
        status, stats = request(server, "GET", "/feedback/stats")
        assert status == 200 and stats["count"] == 3
        assert {label: n for label, n in stats["by_label"].items() if n} == {"1": 1, "2": 1, "3": 1}
        assert post_json(server, "/feedback", {"pixels": PIXELS, "label": 4})[0] == 201
        assert request(server, "GET", "/feedback/stats")[1]["count"] == 4
