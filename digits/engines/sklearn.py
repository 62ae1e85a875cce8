"""scikit-learn pipelines saved with joblib, answering through `predict_proba`."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from digits.config import NUM_CLASSES
from digits.runtime import Prediction, as_batch


class SklearnRuntime:
    """A fitted scikit-learn pipeline with `predict_proba`."""

    family = "sklearn"
    engine = "sklearn"
    uncertainty = False

    def __init__(self, name: str, estimator: Any) -> None:
        self.name = name
        self.estimator = estimator

    def predict(self, images: np.ndarray) -> Prediction:
        probabilities = self.estimator.predict_proba(as_batch(images))
        return Prediction(probabilities=_full_classes(probabilities, self.estimator.classes_))


def load_sklearn(name: str, data: bytes) -> SklearnRuntime:
    """Unpickle verified bytes (pickle runs code: the caller has checked their sha256)."""
    import joblib

    return SklearnRuntime(name, joblib.load(io.BytesIO(data)))


def _full_classes(probabilities: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Spread columns over all ten digits, in case a model was fitted on data lacking some."""
    if len(classes) == NUM_CLASSES:
        return probabilities.astype(np.float32)
    full = np.zeros((len(probabilities), NUM_CLASSES), dtype=np.float32)
    full[:, np.asarray(classes, dtype=int)] = probabilities
    return full
