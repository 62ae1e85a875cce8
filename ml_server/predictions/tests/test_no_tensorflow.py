"""The API serves every model without TensorFlow: Keras models from their `.tflite` export on
LiteRT. An `.h5` without its export is converted once where TensorFlow is installed, and refused
with a 503 that says how to export it where it is not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from digits import runtime as runtime_module
from digits.config import PROJECT_ROOT
from digits.manifest import read_manifest, write_manifest

SERVICE_DIR = Path(__file__).resolve().parents[2]
PIXELS = [0.0] * 392 + [1.0] * 28 + [0.0] * 364

# Run in a fresh interpreter: other tests of this process import TensorFlow to train tiny models.
EVERY_MODEL_ANSWERS = """
import base64, io, json, sys
import django
django.setup()
from django.test import Client
from PIL import Image, ImageDraw

image = Image.new("RGB", (280, 140), "white")
pen = ImageDraw.Draw(image)
pen.line([(40, 30), (40, 110)], fill="black", width=14)
pen.line([(150, 30), (210, 30), (170, 110)], fill="black", width=14)
buffer = io.BytesIO()
image.save(buffer, "PNG")
number = base64.b64encode(buffer.getvalue()).decode()

client = Client(HTTP_HOST="127.0.0.1")
answers = {}
for model in client.get("/list").json()["models"]:
    name = model["name"]
    digit = client.post("/predict", {"pixels": PIXELS, "model": name}, content_type="application/json")
    read = client.post("/predict/number", {"image": number, "model": name}, content_type="application/json")
    answers[name] = [digit.status_code, read.status_code]
loaded = [m["name"] for m in client.get("/list").json()["models"] if m["loaded"]]
print(json.dumps({"answers": answers, "loaded": loaded, "tensorflow": "tensorflow" in sys.modules,
                  "keras": "keras" in sys.modules}))
"""


def test_every_committed_model_answers_and_tensorflow_is_never_imported(tmp_path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "MODELS_DIR": str(PROJECT_ROOT / "models"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PYTHONPATH": os.pathsep.join([str(SERVICE_DIR), str(PROJECT_ROOT)]),
    }
    script = f"PIXELS = {PIXELS!r}\n" + EVERY_MODEL_ANSWERS
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=SERVICE_DIR, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    names = [entry["name"] for entry in read_manifest(PROJECT_ROOT / "models")["models"]]
    assert result["answers"] == {name: [200, 200] for name in names}
    assert sorted(result["loaded"]) == sorted(names)
    assert result["tensorflow"] is False and result["keras"] is False


def without_export(models_dir: Path, name: str) -> None:
    manifest = read_manifest(models_dir)
    for entry in manifest["models"]:
        if entry["name"] == name:
            del entry["tflite"]
    write_manifest(models_dir, manifest)
    (models_dir / f"{name}.tflite").unlink()


def test_an_h5_without_its_export_is_converted_where_tensorflow_is_installed(api_client, models_copy) -> None:
    without_export(models_copy, "ann")
    response = api_client.post("/predict", {"pixels": PIXELS, "model": "ann"}, format="json")
    assert response.status_code == 200 and response.json()["model"] == "ann"


def test_an_h5_without_its_export_is_503_with_how_to_export_without_tensorflow(
    api_client, models_copy, monkeypatch
) -> None:
    monkeypatch.setattr(runtime_module, "tensorflow_installed", lambda: False)
    without_export(models_copy, "ann")
    response = api_client.post("/predict", {"pixels": PIXELS, "model": "ann"}, format="json")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "model_unavailable" and "python -m digits.export" in error["message"]
    assert api_client.post("/predict", {"pixels": PIXELS, "model": "knn"}, format="json").status_code == 200
