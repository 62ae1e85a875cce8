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


def test_not_a_digit_score_signals_match_their_numpy_definitions(small_train):
    """The head computes, in Keras ops (so that the export has them), the same subspace distance as
    the served numpy rule and a per-class Mahalanobis distance as fitted in `digits.novelty`."""
    from digits.arraycodec import decode_array
    from digits.notadigit import subspace_distance
    from digits.novelty import class_gaussians, fit_reference
    from digits.zoo.keras_models import SCORE_SIGNALS, NotADigitScore

    images, labels = small_train[0][:300], np.asarray(small_train[1][:300])
    rng = np.random.default_rng(0)
    probe = (rng.normal(size=(300, 6)) + labels[:, None]).astype(np.float32)
    logits = rng.normal(size=(300, 10)).astype(np.float32)
    head = NotADigitScore([6], name="score")
    head.build([images.shape, probe.shape, logits.shape])
    reference = fit_reference(images, labels)
    head.subspace_means.assign(decode_array(reference["means"]).reshape(head.subspace_means.shape))
    head.subspace_bases.assign(decode_array(reference["bases"]).reshape(head.subspace_bases.shape))
    means, factors = class_gaussians(probe, labels)
    head.class_means[0].assign(means.astype(np.float32))
    head.precision_factors[0].assign(factors.astype(np.float32))

    signals = np.asarray(head.signals([images, probe, logits]))

    assert signals.shape == (300, 6 + len(SCORE_SIGNALS) + 1)
    np.testing.assert_allclose(signals[:, :6], probe, rtol=1e-6)  # the last probe's values come first
    subspace = signals[:, 6 + SCORE_SIGNALS.index("subspace")]
    np.testing.assert_allclose(subspace, subspace_distance(images, reference), rtol=1e-3, atol=1e-4)
    inverses = [np.linalg.inv(np.cov(probe[labels == c], rowvar=False)) for c in range(10)]
    squared = np.stack([np.einsum("nd,de,ne->n", probe - means[c], inverses[c], probe - means[c]) for c in range(10)])
    # class_gaussians adds a little to each covariance, so its distances are slightly shorter
    assert np.all(signals[:, -1] <= np.log1p(squared.min(axis=0)) + 1e-4)
    np.testing.assert_allclose(signals[:, -1], np.log1p(squared.min(axis=0)), rtol=0.05)
