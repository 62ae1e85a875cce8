"""The model registry: one load per model under concurrency, failures isolated, hot reload."""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from digits.manifest import read_manifest, write_manifest
from predictions import bundles
from predictions.errors import ModelUnavailableError, UnknownModelError
from predictions.registry import ModelRegistry, get_registry

PIXELS = [0.0] * 392 + [1.0] * 28 + [0.0] * 364


def counting_loads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count real loads per model, slowed down so that concurrent callers overlap."""
    counts: dict[str, int] = {}
    real = bundles.load_runtime
    guard = threading.Lock()

    def load(models_dir, entry):
        with guard:
            counts[entry["name"]] = counts.get(entry["name"], 0) + 1
        time.sleep(0.2)
        return real(models_dir, entry)

    monkeypatch.setattr(bundles, "load_runtime", load)
    return counts


def test_sixteen_threads_asking_at_once_load_each_model_once(tiny_models, monkeypatch) -> None:
    counts = counting_loads(monkeypatch)
    registry = ModelRegistry(tiny_models, "knn")
    start = threading.Barrier(16)

    def ask(index: int):
        start.wait()
        return registry.get(["knn", "ann"][index % 2])

    with ThreadPoolExecutor(max_workers=16) as pool:
        runtimes = list(pool.map(ask, range(16)))
    assert counts == {"knn": 1, "ann": 1}
    assert len({id(runtime) for runtime in runtimes}) == 2


@pytest.mark.usefixtures("tiny_models")
def test_the_registry_is_one_instance_per_process() -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        instances = set(map(id, pool.map(lambda _: get_registry(), range(8))))
    assert len(instances) == 1


def test_models_load_lazily(tiny_models) -> None:
    registry = ModelRegistry(tiny_models, "knn")
    assert registry.names() == ["ann", "ann_mcd", "knn"]
    assert not registry.is_loaded("ann")
    registry.get("ann")
    assert registry.is_loaded("ann") and not registry.is_loaded("knn")


def test_unknown_names_are_unknown_whatever_their_type(tiny_models) -> None:
    registry = ModelRegistry(tiny_models, "knn")
    for name in ("cnn", "../knn", "knn.pkl", "KNN", 3, ["knn"]):
        with pytest.raises(UnknownModelError):
            registry.slot(name)


def test_default_falls_back_to_the_first_model_when_the_configured_one_is_absent(tiny_models) -> None:
    assert ModelRegistry(tiny_models, "ann_mcd").default_name == "ann_mcd"
    assert ModelRegistry(tiny_models, None).default_name == "ann"  # manifest says cnn, which is not there


def break_file(models_dir: Path, name: str, how: str) -> None:
    """Break the file the model is served from: a Keras model's `.tflite` export, else its file."""
    path = next(models_dir.glob(f"{name}.tflite"), None) or next(models_dir.glob(f"{name}.*"))
    if how == "corrupt":
        path.write_bytes(b"\x80\x04 not a model at all")
    elif how == "missing":
        path.unlink()
    else:  # hash mismatch: a valid file of another model put in its place
        other = next(p for p in models_dir.glob(f"*{path.suffix}") if p != path)
        shutil.copyfile(other, path)


@pytest.mark.parametrize("how", ["corrupt", "missing", "hash_mismatch"])
def test_a_broken_model_is_503_while_the_others_serve(api_client, models_copy, how) -> None:
    break_file(models_copy, "ann", how)
    broken = api_client.post("/predict", {"pixels": PIXELS, "model": "ann"}, format="json")
    assert broken.status_code == 503 and broken.json()["error"]["code"] == "model_unavailable"
    for name in ("knn", "ann_mcd"):
        assert api_client.post("/predict", {"pixels": PIXELS, "model": name}, format="json").status_code == 200
    listed = {m["name"]: m for m in api_client.get("/list").json()["models"]}
    assert listed["ann"]["loaded"] is False and listed["ann"]["error"]
    assert listed["knn"]["loaded"] is True and "error" not in listed["knn"]


def test_a_hash_mismatch_never_opens_the_file(models_copy, monkeypatch) -> None:
    opened = []
    monkeypatch.setattr("joblib.load", lambda *args, **_: opened.append(args))
    break_file(models_copy, "knn", "corrupt")
    with pytest.raises(ModelUnavailableError):
        get_registry().get("knn")
    assert opened == []


def test_a_broken_model_is_not_rehashed_until_its_file_changes(models_copy, monkeypatch) -> None:
    counts = counting_loads(monkeypatch)
    good = (models_copy / "knn.pkl").read_bytes()
    break_file(models_copy, "knn", "corrupt")
    registry = get_registry()
    for _ in range(3):
        with pytest.raises(ModelUnavailableError):
            registry.get("knn")
    assert counts == {"knn": 1}
    (models_copy / "knn.pkl").write_bytes(good)  # repaired in place
    assert registry.get("knn").name == "knn"
    assert counts == {"knn": 2}


def test_a_model_added_to_the_folder_appears_without_restart(api_client, models_copy, tmp_path) -> None:
    spare = tmp_path / "spare"
    shutil.move(models_copy / "ann_mcd.h5", spare)
    manifest = read_manifest(models_copy)
    entry = next(m for m in manifest["models"] if m["name"] == "ann_mcd")
    write_manifest(models_copy, {**manifest, "models": [m for m in manifest["models"] if m is not entry]})
    assert "ann_mcd" not in [m["name"] for m in api_client.get("/list").json()["models"]]
    response = api_client.post("/predict", {"pixels": PIXELS, "model": "ann_mcd"}, format="json")
    assert response.status_code == 404

    shutil.move(spare, models_copy / "ann_mcd.h5")  # the file first, then its manifest entry
    write_manifest(models_copy, {**manifest, "models": [*manifest["models"]]})
    assert "ann_mcd" in [m["name"] for m in api_client.get("/list").json()["models"]]
    response = api_client.post("/predict", {"pixels": PIXELS, "model": "ann_mcd"}, format="json")
    assert response.status_code == 200 and "uncertainty" in response.json()


def test_a_retrained_model_is_reloaded_and_untouched_ones_are_kept(models_copy) -> None:
    registry = get_registry()
    knn, ann = registry.get("knn"), registry.get("ann")
    manifest = read_manifest(models_copy)
    for entry in manifest["models"]:
        if entry["name"] == "ann":
            entry["metrics"] = {"mnist_test_accuracy": 0.5}  # same file: metadata change only
    write_manifest(models_copy, manifest)
    assert registry.get("ann") is ann and registry.get("knn") is knn
    assert registry.slot("ann").entry["metrics"] == {"mnist_test_accuracy": 0.5}


def test_without_a_readable_manifest_nothing_is_served_and_nothing_crashes(api_client, models_copy) -> None:
    (models_copy / "manifest.json").write_text("{not json")
    assert api_client.get("/list").json() == {"default": None, "models": []}
    response = api_client.post("/predict", {"pixels": PIXELS}, format="json")
    assert response.status_code == 503
    ready = api_client.get("/ready")
    assert ready.status_code == 503 and "manifest.json" in ready.json()["error"]["message"]


def test_a_manifest_broken_later_leaves_the_last_good_one_in_force(api_client, models_copy) -> None:
    assert api_client.post("/predict", {"pixels": PIXELS, "model": "ann"}, format="json").status_code == 200
    (models_copy / "manifest.json").write_text('{"models": "half-written')
    assert [m["name"] for m in api_client.get("/list").json()["models"]] == ["ann", "ann_mcd", "knn"]
    assert api_client.post("/predict", {"pixels": PIXELS, "model": "ann"}, format="json").status_code == 200
