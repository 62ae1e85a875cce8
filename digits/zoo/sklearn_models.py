"""scikit-learn builders for the classic members of the zoo.

Each is a Pipeline from (n, 28, 28) float32 images in 0..1 to class probabilities, sized to stay
well under 25 MiB on disk: the original project's forest weighed 900 MB.
"""

from __future__ import annotations

from sklearn.calibration import CalibratedClassifierCV
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import SVC

from digits.features import deskew


def build_rf(seed: int = 0) -> Pipeline:
    """A forest of deskewed pixels; leaf size bounds the file while costing little accuracy. Forty
    trees, chosen on the validation split against sixty (README, "Serving"): every tree is memory each
    serving worker holds."""
    return Pipeline(
        [
            ("deskew", FunctionTransformer(deskew)),
            (
                "forest",
                RandomForestClassifier(
                    n_estimators=40,
                    min_samples_leaf=2,
                    max_features="sqrt",
                    n_jobs=-1,
                    random_state=seed,
                ),
            ),
        ]
    )


def build_knn(seed: int = 0) -> Pipeline:
    """k nearest neighbours in a 40-d PCA space of deskewed digits (stores 60k x 40 floats)."""
    return Pipeline(
        [
            ("deskew", FunctionTransformer(deskew)),
            ("pca", PCA(n_components=40, random_state=seed)),
            ("knn", KNeighborsClassifier(n_neighbors=4, weights="distance", n_jobs=-1)),
        ]
    )


def build_svm(seed: int = 0) -> Pipeline:
    """An RBF support vector machine on 50 PCA components of deskewed digits, with Platt-scaled
    probabilities fitted on cross-validated decision values."""
    return Pipeline(
        [
            ("deskew", FunctionTransformer(deskew)),
            ("pca", PCA(n_components=50, whiten=False, random_state=seed)),
            (
                "svm",
                CalibratedClassifierCV(
                    SVC(kernel="rbf", C=10.0, gamma="scale", random_state=seed),
                    method="sigmoid",
                    cv=5,
                    ensemble=False,
                ),
            ),
        ]
    )
