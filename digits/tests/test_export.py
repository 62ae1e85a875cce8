"""`python -m digits.export` writes each Keras model's `.tflite` beside its `.h5`, recorded with its
own sha256 in the same manifest entry, and the export answers as the `.h5` does on MNIST test."""

import numpy as np
import pytest

from digits.config import PROJECT_ROOT
from digits.engines.tensorflow import TensorFlowRuntime, load_keras_model
from digits.export import main as export_main
from digits.manifest import IntegrityError, read_manifest, sha256_file, upsert_entry
from digits.preprocess import to_unit_range
from digits.runtime import load_runtime, split_outputs
from digits.train import save_model, train_one
from digits.zoo import ZOO

COMMITTED = PROJECT_ROOT / "models"
AGREEMENT_DIGITS = 2000  # MNIST test digits compared per committed model
MAX_PROBABILITY_DIFFERENCE = 1e-4
MC_MIN_AGREEMENT = 0.99  # both sides sample dropout: the few digits the model is torn on may differ


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, small_train):
    folder = tmp_path_factory.mktemp("models")
    for name in ("ann", "cnn_mcd"):
        spec = ZOO[name]
        model = train_one(spec, *small_train, epochs=1, seed=0, batch_size=16, verbose=0)
        save_model(spec, model, folder / spec.file)
        entry = {"name": name, "file": spec.file, "sha256": sha256_file(folder / spec.file)}
        upsert_entry(folder, {**entry, "family": "keras", "uncertainty": spec.uncertainty})
    assert export_main(["--models-dir", str(folder)]) == 0
    return folder


def test_export_writes_tflite_beside_h5_with_its_own_sha256(models_dir):
    entries = {entry["name"]: entry for entry in read_manifest(models_dir)["models"]}
    for name in ("ann", "cnn_mcd"):
        export = entries[name]["tflite"]
        assert export["file"] == f"{name}.tflite"
        assert export["sha256"] == sha256_file(models_dir / export["file"]) != entries[name]["sha256"]
        assert load_runtime(models_dir, entries[name]).engine == "litert"


def test_tampered_export_is_refused(models_dir, tmp_path):
    entry = next(entry for entry in read_manifest(models_dir)["models"] if entry["name"] == "ann")
    (tmp_path / "ann.tflite").write_bytes((models_dir / "ann.tflite").read_bytes() + b"\0")
    with pytest.raises(IntegrityError, match="sha256"):
        load_runtime(tmp_path, entry)


def test_export_of_a_small_model_agrees_with_keras(models_dir, small_test):
    entry = next(entry for entry in read_manifest(models_dir)["models"] if entry["name"] == "ann")
    expected = load_keras_model(models_dir / "ann.h5").predict(small_test[0], verbose=0)
    answered = load_runtime(models_dir, entry).predict(small_test[0]).probabilities
    assert (answered.argmax(axis=1) == expected.argmax(axis=1)).all()
    assert np.abs(answered - expected).max() <= MAX_PROBABILITY_DIFFERENCE


@pytest.mark.parametrize("name", ["cnn", "cnn_mcd", "ann", "ann_bn", "ann_mcd"])
def test_committed_export_agrees_with_its_h5_on_mnist_test(name, mnist):
    entry = next(entry for entry in read_manifest(COMMITTED)["models"] if entry["name"] == name)
    images = to_unit_range(mnist.x_test[:AGREEMENT_DIGITS])
    exported = load_runtime(COMMITTED, entry)
    assert exported.engine == "litert" and exported.uncertainty == entry["uncertainty"]
    prediction = exported.predict(images)
    answered = prediction.probabilities
    model = load_keras_model(COMMITTED / entry["file"])
    if not entry["uncertainty"]:
        # through split_outputs, as served: a model with a not-a-digit output has an eleventh column
        reference = split_outputs(model.predict(images, batch_size=500, verbose=0))
        expected = reference.probabilities
        assert (answered.argmax(axis=1) == expected.argmax(axis=1)).all()
        assert np.abs(answered - expected).max() <= MAX_PROBABILITY_DIFFERENCE
        assert (prediction.not_a_digit_score is None) == (reference.not_a_digit_score is None)
        if reference.not_a_digit_score is not None:
            assert (
                np.abs(prediction.not_a_digit_score - reference.not_a_digit_score).max() <= MAX_PROBABILITY_DIFFERENCE
            )
    else:
        expected = TensorFlowRuntime(name, model).predict(images).probabilities
        assert (answered.argmax(axis=1) == expected.argmax(axis=1)).mean() >= MC_MIN_AGREEMENT
