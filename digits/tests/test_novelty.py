"""Fitting the not-a-digit decision: the threshold search, the rule for a model without a score,
and the cnn's own score fitted, built into its file and measured leave-one-family-out."""

import joblib
import numpy as np
import pytest

from digits.manifest import read_manifest, sha256_file, upsert_entry
from digits.negatives import FAMILY_NAMES
from digits.novelty import CANDIDATES, auroc, fit_thresholds, main
from digits.runtime import load_runtime
from digits.train import save_model, train_one
from digits.zoo import ZOO

TINY = ["--validation", "400", "--fit-negatives", "60", "--tune-negatives", "20", "--report-negatives", "30"]
TINY += ["--test-limit", "300", "--canvas-count", "60"]


def test_fitted_thresholds_keep_every_digit_part_within_target_and_skip_useless_signals():
    rng = np.random.default_rng(0)
    parts = [{"useful": rng.normal(0, 1, 2000), "useless": rng.normal(0, 1, 2000)} for _ in range(2)]
    parts[1]["useful"] = parts[1]["useful"] + 0.5  # a harder part: its tail must set the threshold
    non_digits = {"useful": rng.normal(4, 1, 500), "useless": rng.normal(0, 1, 500)}
    thresholds = fit_thresholds(parts, non_digits, target=0.01)
    assert set(thresholds) == {"useful"}
    for part in parts:
        assert (part["useful"] > thresholds["useful"]).mean() <= 0.01


def test_auroc_is_one_for_separated_scores_and_a_half_for_equal_ones():
    assert auroc(np.array([0.1, 0.2]), np.array([0.8, 0.9])) == 1.0
    assert auroc(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0.5


def test_command_adds_a_measured_rule_for_a_model_without_a_score(tmp_path, small_train):
    spec = ZOO["knn"]
    joblib.dump(spec.build().fit(*small_train), tmp_path / spec.file)
    entry = {"name": "knn", "display_name": spec.display_name, "family": "sklearn", "file": spec.file}
    upsert_entry(tmp_path, entry | {"sha256": sha256_file(tmp_path / spec.file), "metrics": {"x": 1}})

    assert main(["--models-dir", str(tmp_path), *TINY]) == 0

    (written,) = read_manifest(tmp_path)["models"]
    assert written["metrics"] == {"x": 1}
    rule = written["not_a_digit"]
    assert rule["thresholds"]
    assert set(rule["measured"]["flagged"]) == set(FAMILY_NAMES)
    assert 0.0 <= rule["measured"]["mnist_false_alarm"] <= 1.0


@pytest.fixture(scope="module")
def tiny_cnn(tmp_path_factory, mnist):
    """A cnn trained for one epoch on 1,000 digits, recorded in a manifest beside a touching detector."""
    from digits.preprocess import to_unit_range

    folder = tmp_path_factory.mktemp("cnn")
    spec = ZOO["cnn"]
    model = train_one(spec, to_unit_range(mnist.x_train[:1000]), mnist.y_train[:1000], epochs=1, seed=0, verbose=0)
    save_model(spec, model, folder / spec.file)
    entry = {"name": "cnn", "display_name": spec.display_name, "family": "keras", "file": spec.file}
    upsert_entry(
        folder, entry | {"sha256": sha256_file(folder / spec.file), "metrics": {}, "touching_digits": {"x": 1}}
    )
    return folder


def test_command_builds_the_cnns_score_into_its_file_and_measures_each_held_out_family(tiny_cnn):
    before = sha256_file(tiny_cnn / "cnn.h5")

    assert main(["--models-dir", str(tiny_cnn), *TINY]) == 0

    (written,) = read_manifest(tiny_cnn)["models"]
    assert written["sha256"] == sha256_file(tiny_cnn / "cnn.h5") != before
    assert written["touching_digits"] == {"x": 1}  # the rest of the entry survives
    rule = written["not_a_digit"]
    assert rule["score"] == "model" and rule["candidate"] in CANDIDATES
    assert set(rule["held_out_families"]) == set(FAMILY_NAMES)
    for row in rule["held_out_families"].values():
        assert 0.0 <= row["flagged"] <= 1.0 and 0.0 <= row["auroc"] <= 1.0
    assert {"mnist_test_ece", "canvas_ece", "mnist_test_accuracy"} <= set(written["metrics"])
    prediction = load_runtime(tiny_cnn, written).predict(np.zeros((2, 28, 28), dtype=np.float32))
    assert prediction.probabilities.shape == (2, 10) and prediction.not_a_digit_score.shape == (2,)
    np.testing.assert_allclose(prediction.probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_head_study_prints_each_variants_held_out_shares_from_tune_drawings(tiny_cnn, capsys):
    from digits.head_study import main as study

    tiny = ["--validation", "400", "--fit-negatives", "60", "--tune-negatives", "20", "--reference-digits", "200"]
    assert study(["--models-dir", str(tiny_cnn), *tiny]) == 0

    header, *rows = capsys.readouterr().out.strip().splitlines()
    assert header.split()[-5:] == [*FAMILY_NAMES, "mean"]
    assert len(rows) == 7 * 2  # seven variants, two candidates each
    for row in rows:
        shares = [float(value) for value in row.split()[-5:]]
        assert all(0.0 <= share <= 1.0 for share in shares)
