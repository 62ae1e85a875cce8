"""The database behind feedback: chosen by DATABASE_URL, and a dead one makes /feedback answer 503."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from testsupport.servers import free_port

SERVICE_DIR = Path(__file__).resolve().parents[2]

# Runs in a fresh process whose DATABASE_URL points at a closed port: nothing listens there.
DEAD_DATABASE_PROBE = """
import json, django
django.setup()
from django.test import Client
client, pixels = Client(), [0.5] * 784
answers = {
    "feedback": client.post("/feedback", {"pixels": pixels, "label": 3}, content_type="application/json"),
    "stats": client.get("/feedback/stats"),
    "predict": client.post("/predict", {"pixels": pixels}, content_type="application/json"),
}
print(json.dumps({name: [answer.status_code, answer.json()] for name, answer in answers.items()}))
"""


@pytest.fixture(scope="module")
def knn_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny scikit-learn model (no TensorFlow needed), so /predict can answer in the probe."""
    from digits.train import main as train

    out = tmp_path_factory.mktemp("knn_models")
    arguments = ["--models", "knn", "--out", str(out), "--limit", "500", "--test-limit", "100"]
    assert train([*arguments, "--canvas-count", "20", "--quiet"]) == 0
    return out


@pytest.mark.django_db
def test_database_url_selects_the_backend():
    expected = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"

    assert connection.vendor == expected


def test_unreachable_database_answers_503_on_feedback_while_predict_works(knn_models_dir):
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://feedback@127.0.0.1:{free_port()}/feedback?connect_timeout=3",
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "ALLOWED_HOSTS": "testserver",  # the host name Django's test client sends
        "MODELS_DIR": str(knn_models_dir),
        "DEFAULT_MODEL": "knn",
    }
    result = subprocess.run(
        [sys.executable, "-c", DEAD_DATABASE_PROBE],
        cwd=SERVICE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    for name in ("feedback", "stats"):
        status, body = answers[name]
        assert status == 503
        assert body["error"]["code"] == "database_unavailable"
    status, body = answers["predict"]
    assert status == 200, body
    assert body["model"] == "knn"
    assert body["digit"] in range(10)
