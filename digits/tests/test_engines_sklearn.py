"""The scikit-learn engine serves a pickled model single-threaded, with the probabilities it had."""

from __future__ import annotations

import io

import joblib
import numpy as np

from digits.engines.sklearn import load_sklearn
from digits.train import temperature_scaled, train_one
from digits.zoo import ZOO


def pickled(model) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def test_a_calibrated_forest_trained_on_every_core_is_served_on_one(small_train, small_test):
    x, y = small_train
    forest = temperature_scaled(train_one(ZOO["rf"], x[:400], y[:400], epochs=0, seed=0), x[400:], y[400:])
    assert forest.estimator.estimator.named_steps["forest"].n_jobs == -1  # as trained
    runtime = load_sklearn("rf", pickled(forest))
    served = runtime.estimator
    fitted = served.calibrated_classifiers_[0].estimator.estimator  # the pipeline the calibrator calls
    assert fitted.named_steps["forest"].n_jobs == 1
    assert served.estimator.estimator.named_steps["forest"].n_jobs == 1
    np.testing.assert_allclose(
        runtime.predict(small_test[0]).probabilities, forest.predict_proba(small_test[0]), atol=1e-6
    )


def test_a_nearest_neighbours_pipeline_is_served_on_one_core(small_train, small_test):
    knn = train_one(ZOO["knn"], *small_train, epochs=0, seed=0)
    assert knn.named_steps["knn"].n_jobs == -1
    runtime = load_sklearn("knn", pickled(knn))
    assert runtime.estimator.named_steps["knn"].n_jobs == 1
    assert runtime.predict(small_test[0][:5]).probabilities.shape == (5, 10)
