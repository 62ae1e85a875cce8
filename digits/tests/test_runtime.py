"""Saved models come back identical, Monte-Carlo dropout samples in one batch, and nothing loads
unless its sha256 matches the manifest."""

import keras
import numpy as np
import pytest

from digits.engines.tensorflow import TensorFlowRuntime
from digits.manifest import IntegrityError, sha256_file
from digits.runtime import load_runtime
from digits.train import save_model, train_one
from digits.zoo import ZOO


def saved(tmp_path, name, small_train):
    spec = ZOO[name]
    model = train_one(spec, *small_train, epochs=1, seed=0, batch_size=16, verbose=0)
    path = tmp_path / spec.file
    save_model(spec, model, path)
    return model, {"name": name, "file": spec.file, "sha256": sha256_file(path)}


@pytest.mark.parametrize("name", ["cnn", "ann_bn", "rf", "svm"])
def test_round_trip_gives_identical_predictions(tmp_path, name, small_train, small_test):
    model, entry = saved(tmp_path, name, small_train)
    loaded = load_runtime(tmp_path, entry)
    if ZOO[name].family == "keras":
        expected = model.predict(small_test[0], verbose=0)
    else:
        expected = model.predict_proba(small_test[0])
    np.testing.assert_allclose(loaded.predict(small_test[0]).probabilities, expected, atol=1e-5)


def test_monte_carlo_h5_loads_with_plain_keras_and_samples_in_one_pass(tmp_path, small_train, small_test):
    _, entry = saved(tmp_path, "cnn_mcd", small_train)
    plain = keras.models.load_model(tmp_path / "cnn_mcd.h5", compile=False)  # MCDropout is registered
    images = small_test[0][:20]
    runtime = load_runtime(tmp_path, entry)
    prediction = runtime.predict(images)
    assert runtime.uncertainty and prediction.std is not None and prediction.predictive_entropy is not None
    np.testing.assert_allclose(prediction.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (prediction.std > 0).any(), "dropout must stay on at inference"
    # The batched sampler estimates the same mean as many separate stochastic passes of the full model.
    passes = plain(np.tile(images, (200, 1, 1)), training=False).numpy().reshape(200, len(images), 10).mean(axis=0)
    assert np.abs(prediction.probabilities - passes).max() < 0.15
    entropy = -(prediction.probabilities * np.log(np.clip(prediction.probabilities, 1e-12, None))).sum(axis=1)
    np.testing.assert_allclose(prediction.predictive_entropy, entropy, rtol=1e-5)


def test_compiled_path_equals_plain_keras(tmp_path, small_train, small_test):
    model, _ = saved(tmp_path, "ann", small_train)
    runtime = TensorFlowRuntime("ann", model)
    np.testing.assert_allclose(
        runtime.predict(small_test[0]).probabilities, model.predict(small_test[0], verbose=0), atol=1e-5
    )


def test_tampered_file_is_refused(tmp_path, small_train):
    _, entry = saved(tmp_path, "knn", small_train)
    with open(tmp_path / "knn.pkl", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(IntegrityError, match="sha256"):
        load_runtime(tmp_path, entry)


def test_file_outside_the_models_folder_is_refused(tmp_path, small_train):
    _, entry = saved(tmp_path, "knn", small_train)
    inner = tmp_path / "models"
    inner.mkdir()
    with pytest.raises(IntegrityError, match="directly in"):
        load_runtime(inner, dict(entry, file="../knn.pkl"))


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(IntegrityError, match="cannot read"):
        load_runtime(tmp_path, {"name": "knn", "file": "knn.pkl", "sha256": "0" * 64})
