import numpy as np
import pytest

from digits.config import MODELS_DIR
from digits.evaluate import expected_calibration_error, main
from digits.manifest import read_manifest, write_manifest
from digits.touching import MANIFEST_KEY as TOUCHING_WEIGHTS
from digits.train import main as train_main


def test_calibration_error_is_zero_when_confidence_matches_accuracy():
    # 10 answers at 80% confidence, 8 of them right.
    probabilities = np.full((10, 10), 0.2 / 9)
    probabilities[:, 0] = 0.8
    labels = np.array([0] * 8 + [1, 2])
    assert expected_calibration_error(probabilities, labels) == pytest.approx(0.0, abs=1e-9)


def test_overconfidence_is_measured():
    probabilities = np.eye(10)[[0, 0, 0, 0]]  # 100% sure, right half the time
    assert expected_calibration_error(probabilities, np.array([0, 0, 1, 1])) == pytest.approx(0.5)


def test_write_stores_the_re_measured_accuracies_and_keeps_the_rest_of_the_entry(tmp_path, capsys):
    train_main(["--models", "knn", "--out", str(tmp_path), "--limit", "300", "--test-limit", "100", "--quiet"])
    before = read_manifest(tmp_path)["models"][0]
    assert main(["--models-dir", str(tmp_path), "--canvas-count", "30"]) == 0
    assert read_manifest(tmp_path)["models"][0] == before  # measuring alone writes nothing
    assert main(["--models-dir", str(tmp_path), "--canvas-count", "30", "--write"]) == 0
    after = read_manifest(tmp_path)["models"][0]
    knn_line = next(line for line in capsys.readouterr().out.splitlines()[::-1] if line.startswith("knn"))
    assert after["metrics"]["canvas_accuracy"] == float(knn_line.split()[2])  # the 30-drawing figure printed
    assert after["metrics"]["mnist_test_accuracy"] == float(knn_line.split()[1])
    assert {k: v for k, v in after.items() if k != "metrics"} == {k: v for k, v in before.items() if k != "metrics"}


def test_numbers_are_read_with_the_entrys_detector_of_touching_digits(tmp_path, capsys):
    train_main(["--models", "knn", "--out", str(tmp_path), "--limit", "300", "--test-limit", "100", "--quiet"])
    arguments = ["--models-dir", str(tmp_path), "--canvas-count", "10", "--numbers", "5"]
    assert main(arguments) == 0
    assert "detector of touching digits: none" in capsys.readouterr().out
    committed = next(m for m in read_manifest(MODELS_DIR)["models"] if TOUCHING_WEIGHTS in m)
    manifest = read_manifest(tmp_path)
    manifest["models"][0][TOUCHING_WEIGHTS] = committed[TOUCHING_WEIGHTS]
    write_manifest(tmp_path, manifest)
    assert main(arguments) == 0
    numbers_line = next(line for line in capsys.readouterr().out.splitlines() if "numbers:" in line)
    assert numbers_line.endswith("detector of touching digits: yes")
    assert "over 5 numbers" in numbers_line
