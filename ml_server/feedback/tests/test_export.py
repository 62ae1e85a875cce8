"""`manage.py export_feedback`: the stored corrections as the .npz that `digits.train --extra` reads."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from feedback.services import feedback_create

pytestmark = pytest.mark.django_db
REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, list[np.ndarray]]:
    rng = np.random.default_rng(0)
    inputs = [rng.random((28, 28), dtype=np.float32) for _ in range(3)]
    feedback_create(model_input=inputs[0], label=4, predicted=9, model_name="cnn")
    feedback_create(model_input=inputs[1], label=0)
    feedback_create(model_input=inputs[2], label=9, predicted=9, model_name="rf")
    out = tmp_path / "nested" / "feedback.npz"
    report = io.StringIO()
    call_command("export_feedback", out=out, stdout=report)
    assert f"wrote 3 feedback examples to {out}" in report.getvalue()
    return out, inputs


def test_export_writes_inputs_labels_and_guesses_oldest_first(exported):
    out, inputs = exported

    with np.load(out, allow_pickle=False) as npz:
        assert npz["x"].dtype == np.float32
        np.testing.assert_array_equal(npz["x"], np.stack(inputs))
        assert npz["y"].dtype == np.uint8
        assert npz["y"].tolist() == [4, 0, 9]
        assert npz["predicted"].tolist() == [9, -1, 9]
        assert npz["model"].tolist() == ["cnn", "", "rf"]


def test_export_of_no_feedback_is_an_empty_dataset(tmp_path):
    out = tmp_path / "empty.npz"
    call_command("export_feedback", out=out, stdout=io.StringIO())

    with np.load(out, allow_pickle=False) as npz:
        assert npz["x"].shape == (0, 28, 28)
        assert npz["y"].shape == (0,)


def test_digits_train_reads_the_export(exported):
    from digits.train import load_extra

    x, y = load_extra(exported[0])

    assert x.shape == (3, 28, 28)
    assert y.tolist() == [4, 0, 9]


@pytest.mark.slow
def test_a_tiny_model_trains_on_mnist_plus_the_export(exported, tmp_path):
    command = [sys.executable, "-m", "digits.train", "--models", "ann", "--limit", "300", "--epochs", "1"]
    command += ["--test-limit", "200", "--canvas-count", "50", "--quiet", "--out", str(tmp_path / "models")]
    command += ["--extra", str(exported[0])]
    env = dict(os.environ)

    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)

    assert result.returncode == 0, result.stderr[-2000:]
    assert "training on 153 images" in result.stdout  # 300 less the validation split (150), plus the 3 exported
    assert (tmp_path / "models" / "ann.h5").exists()
