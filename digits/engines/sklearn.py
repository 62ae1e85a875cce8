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

    return SklearnRuntime(name, single_threaded(joblib.load(io.BytesIO(data))))


def single_threaded(estimator: Any) -> Any:
    """Set `n_jobs=1` on the estimator and every estimator inside it. Models are trained with all
    cores (`n_jobs=-1`), but a serving process answers one image at a time on one core beside
    other workers: a thread pool per call there only adds dispatch and competes for the cores."""
    seen: set[int] = set()
    pending = [estimator]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if hasattr(current, "n_jobs"):
            current.n_jobs = 1
        pending.extend(_inner_estimators(current))
    return estimator


def _inner_estimators(estimator: Any) -> list[Any]:
    """Parameters that are estimators (a wrapper's, a pipeline's steps) and a calibrator's fitted ones."""
    inner = [value for value in estimator.get_params(deep=False).values() if hasattr(value, "get_params")]
    inner += [step for _, step in getattr(estimator, "steps", [])]
    inner += [fitted.estimator for fitted in getattr(estimator, "calibrated_classifiers_", [])]
    return inner


def _full_classes(probabilities: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Spread columns over all ten digits, in case a model was fitted on data lacking some."""
    if len(classes) == NUM_CLASSES:
        return probabilities.astype(np.float32)
    full = np.zeros((len(probabilities), NUM_CLASSES), dtype=np.float32)
    full[:, np.asarray(classes, dtype=int)] = probabilities
    return full
