"""The training CLI writes artifacts and a manifest entry shaped as the contract says, with metrics
measured on the saved file."""

import json

import numpy as np

from digits.manifest import read_manifest, sha256_file
from digits.train import main


def test_cli_trains_saves_and_records_measured_metrics(tmp_path):
    extra = tmp_path / "feedback.npz"
    np.savez(extra, x=np.zeros((3, 28, 28), dtype=np.float32), y=np.array([1, 2, 3], dtype=np.uint8))
    args = ["--models", "ann_mcd,knn", "--out", str(tmp_path), "--limit", "300", "--epochs", "1"]
    args += ["--test-limit", "200", "--canvas-count", "50", "--extra", str(extra), "--quiet"]
    assert main(args) == 0

    manifest = read_manifest(tmp_path)
    assert manifest["default"] == "cnn"
    entries = {entry["name"]: entry for entry in manifest["models"]}
    assert list(entries) == ["ann_mcd", "knn"]
    for name, suffix in (("ann_mcd", ".h5"), ("knn", ".pkl")):
        entry = entries[name]
        assert entry["file"] == name + suffix
        assert entry["sha256"] == sha256_file(tmp_path / entry["file"])
        assert set(entry) >= {"display_name", "family", "uncertainty", "metrics", "trained"}
        assert 0.3 < entry["metrics"]["mnist_test_accuracy"] <= 1.0
        assert 0.0 <= entry["metrics"]["canvas_accuracy"] <= 1.0
        # 300 digits less the validation split (half of them at most), plus the 3 extra examples
        assert entry["trained"]["seed"] == 0 and entry["trained"]["train_images"] == 153
        assert entry["trained"]["validation"] == {"images": 150, "seed": 0, "of": "MNIST train"}
        assert "feedback.npz" in entry["trained"]["data"]
    assert entries["ann_mcd"]["uncertainty"] is True and entries["ann_mcd"]["trained"]["epochs"] == 1

    # Retraining one model replaces its entry and keeps the others in place.
    assert (
        main(
            [
                "--models",
                "ann_mcd",
                "--out",
                str(tmp_path),
                "--limit",
                "300",
                "--epochs",
                "1",
                "--test-limit",
                "100",
                "--canvas-count",
                "20",
                "--quiet",
            ]
        )
        == 0
    )
    reread = json.loads((tmp_path / "manifest.json").read_text())
    assert [entry["name"] for entry in reread["models"]] == ["ann_mcd", "knn"]
    assert reread["models"][1] == entries["knn"]
