"""The model zoo: every model the product can train and serve, by name.

Builders are referenced by dotted path so that listing the zoo imports neither TensorFlow nor
scikit-learn.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModelSpec:
    name: str
    display_name: str
    family: str  # "keras" or "sklearn"
    builder: str  # "module:function"
    epochs: int = 0  # Keras only
    uncertainty: bool = False
    calibrated: bool = False  # scikit-learn only: probabilities temperature-scaled on the validation split

    @property
    def file(self) -> str:
        return f"{self.name}.h5" if self.family == "keras" else f"{self.name}.pkl"

    def build(self, seed: int = 0) -> Any:
        module_name, function_name = self.builder.split(":")
        builder = getattr(importlib.import_module(module_name), function_name)
        return builder() if self.family == "keras" else builder(seed=seed)


_KERAS = "digits.zoo.keras_models"
_SKLEARN = "digits.zoo.sklearn_models"

ZOO: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("cnn", "Convolutional network", "keras", f"{_KERAS}:build_cnn", epochs=20),
        ModelSpec(
            "cnn_mcd",
            "Convolutional network, Monte-Carlo dropout",
            "keras",
            f"{_KERAS}:build_cnn_mcd",
            epochs=15,
            uncertainty=True,
        ),
        ModelSpec("ann", "Multilayer perceptron", "keras", f"{_KERAS}:build_ann", epochs=20),
        ModelSpec("ann_bn", "Multilayer perceptron, batch norm", "keras", f"{_KERAS}:build_ann_bn", epochs=20),
        ModelSpec(
            "ann_mcd",
            "Multilayer perceptron, Monte-Carlo dropout",
            "keras",
            f"{_KERAS}:build_ann_mcd",
            epochs=20,
            uncertainty=True,
        ),
        ModelSpec("rf", "Random forest", "sklearn", f"{_SKLEARN}:build_rf", calibrated=True),
        ModelSpec("knn", "k-nearest neighbours", "sklearn", f"{_SKLEARN}:build_knn"),
        ModelSpec("svm", "Support vector machine", "sklearn", f"{_SKLEARN}:build_svm"),
    )
}


def get_spec(name: str) -> ModelSpec:
    try:
        return ZOO[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; the zoo has {', '.join(ZOO)}") from None
