"""Broken parts against the real server (gunicorn on loopback): the affected part answers its 503,
the rest keeps serving, and nothing stored is lost."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from digits.manifest import read_manifest, sha256_file, write_manifest
from hardening_tests.server import SERVICE_DIR, Server, free_port, gunicorn

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


def predict(server: Server, model: str | None = None) -> tuple[int, dict]:
    return server.post_json("/predict", {"pixels": PIXELS, **({"model": model} if model else {})})


def test_a_corrupt_model_at_start_takes_out_only_itself(tiny_models_dir, tmp_path) -> None:
    models = copy_models(tiny_models_dir, tmp_path)
    corrupt_with_matching_hash(models, "knn")  # the default
    (models / "ann_mcd.tflite").write_bytes(b"\x00" * 64)  # the served export no longer matches its sha256

    with gunicorn(models, tmp_path / "server.log", DEFAULT_MODEL="knn") as server:
        body = server.wait_for("/ready", status=503)
        assert body["status"] == "not_ready" and body["error"]["code"] == "model_unavailable"
        for model in (None, "knn", "ann_mcd"):
            status, body = predict(server, model)
            assert (status, body["error"]["code"]) == (503, "model_unavailable"), model
        status, body = predict(server, "ann")
        assert status == 200 and body["model"] == "ann" and body["digit"] in range(10)
        assert server.request("GET", "/health") == (200, {"status": "ok"})
    assert "model knn failed to load" in (tmp_path / "server.log").read_text()


def test_a_model_file_deleted_while_serving(tiny_models_dir, tmp_path) -> None:
    models = copy_models(tiny_models_dir, tmp_path)
    # One worker: the process that loaded a model is the one asked again after its files are gone.
    with gunicorn(models, tmp_path / "server.log", DEFAULT_MODEL="knn", WEB_CONCURRENCY="1") as server:
        server.wait_for("/ready")
        assert predict(server, "ann")[0] == 200  # loaded now; ann_mcd never is
        for name in ("knn.pkl", "ann.h5", "ann.tflite", "ann_mcd.h5", "ann_mcd.tflite"):
            (models / name).unlink()

        for model in (None, "knn", "ann"):
            status, body = predict(server, model)
            assert status == 200 and body["digit"] in range(10), model
        status, body = predict(server, "ann_mcd")
        assert (status, body["error"]["code"]) == (503, "model_unavailable")
        assert server.request("GET", "/ready")[0] == 200
    lines = [json.loads(line) for line in (tmp_path / "server.log").read_text().splitlines() if line.startswith("{")]
    assert [line["status"] for line in lines if line["path"] == "/predict"] == [200] * 4 + [503]


# --- the database gone ---------------------------------------------------------------------------


class Postgres:
    """A private PostgreSQL cluster on a free loopback port that a test can stop and start again."""

    def __init__(self, root: Path, port: int) -> None:
        from feedback.tests.conftest import _postgres_bin_dir

        bin_dir = _postgres_bin_dir()
        if bin_dir is None:
            pytest.skip("PostgreSQL is not installed (make system-deps installs it)")
        self.bin, self.root, self.port = bin_dir, root, port
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.url = f"postgresql://postgres@127.0.0.1:{port}/feedback?connect_timeout=3"

    def run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, timeout=120, cwd=self.root)

    def pg_ctl(self, *arguments: str) -> None:
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), *arguments)

    def init(self) -> None:
        self.run("mkdir", str(self.root / "sockets"))
        self.run(str(self.bin / "initdb"), "-D", str(self.root / "data"), "-U", "postgres", "-A", "trust", "--locale=C")
        self.start()
        self.run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "feedback")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root / 'sockets'} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg_ctl("-l", str(self.root / "server.log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    root = Path(tempfile.mkdtemp(prefix="outage-pg-", dir="/tmp"))  # reachable by the postgres user
    server = Postgres(root, free_port())
    if server.as_user:
        shutil.chown(root, user="postgres", group="postgres")
    try:
        server.init()
        yield server
    finally:
        stop = [*server.as_user, str(server.bin / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "stop"]
        subprocess.run(stop, capture_output=True, timeout=60, check=False)
        shutil.rmtree(root, ignore_errors=True)


def test_the_database_gone_and_back_loses_nothing(tiny_models_dir, tmp_path, postgres) -> None:
    env = {"DATABASE_URL": postgres.url, "DEFAULT_MODEL": "knn", "FEEDBACK_THROTTLE_RATE": "1000/min"}
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=SERVICE_DIR,
        env={**os.environ, "SECRET_KEY": "migrate-only", "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stderr
    with gunicorn(tiny_models_dir, tmp_path / "server.log", **env) as server:
        for label in (1, 2, 3):
            assert server.post_json("/feedback", {"pixels": PIXELS, "label": label})[0] == 201

        postgres.stop()
        status, body = server.post_json("/feedback", {"pixels": PIXELS, "label": 4})
        assert (status, body["error"]["code"]) == (503, "database_unavailable")
        assert server.request("GET", "/feedback/stats")[0] == 503
        status, body = predict(server)
        assert status == 200 and body["digit"] in range(10)
        assert server.request("GET", "/ready")[0] == 200

        postgres.start()
        status, stats = server.request("GET", "/feedback/stats")
        assert status == 200 and stats["count"] == 3
        assert {label: n for label, n in stats["by_label"].items() if n} == {"1": 1, "2": 1, "3": 1}
        assert server.post_json("/feedback", {"pixels": PIXELS, "label": 4})[0] == 201
        assert server.request("GET", "/feedback/stats")[1]["count"] == 4
