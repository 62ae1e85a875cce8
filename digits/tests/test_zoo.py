"""Every builder of the zoo learns: ~500 images, one epoch, far above chance (10%)."""

import numpy as np
import pytest

from digits.engines.sklearn import SklearnRuntime
from digits.engines.tensorflow import TensorFlowRuntime
from digits.train import train_one
from digits.zoo import ZOO, get_spec

KERAS = [name for name, spec in ZOO.items() if spec.family == "keras"]
SKLEARN = [name for name, spec in ZOO.items() if spec.family == "sklearn"]


def test_zoo_has_the_required_models():
    assert set(ZOO) == {"cnn", "cnn_mcd", "ann", "ann_bn", "ann_mcd", "rf", "knn", "svm"}
    assert {name for name, spec in ZOO.items() if spec.uncertainty} == {"cnn_mcd", "ann_mcd"}


def test_unknown_model_names_the_zoo():
    with pytest.raises(KeyError, match="cnn"):
        get_spec("resnet")


@pytest.mark.parametrize("name", KERAS)
def test_keras_model_learns_from_500_images_in_one_epoch(name, small_train, small_test):
    spec = ZOO[name]
    model = train_one(spec, *small_train, epochs=1, seed=0, batch_size=8, verbose=0)
    runtime = TensorFlowRuntime(name, model)
    predicted = runtime.predict(small_test[0]).probabilities.argmax(axis=1)
    assert (predicted == small_test[1]).mean() > 0.4
    assert runtime.uncertainty == spec.uncertainty


@pytest.mark.parametrize("name", SKLEARN)
def test_sklearn_model_learns_from_500_images(name, small_train, small_test):
    runtime = SklearnRuntime(name, train_one(ZOO[name], *small_train, epochs=0, seed=0))
    probabilities = runtime.predict(small_test[0]).probabilities
    assert probabilities.shape == (500, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (probabilities.argmax(axis=1) == small_test[1]).mean() > 0.7
