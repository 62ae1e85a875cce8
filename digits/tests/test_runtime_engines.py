"""The LiteRT engine runs a Keras model's `.tflite` export as Keras does, Monte-Carlo dropout
included, from many threads; the TensorFlow engine is the reference it is checked against."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from digits.engines.litert import LiteRTRuntime
from digits.engines.tensorflow import TensorFlowRuntime, tflite_flatbuffer
from digits.train import train_one
from digits.zoo import ZOO


@pytest.fixture(scope="module")
def trained(small_train):
    names = ("cnn", "cnn_mcd", "ann", "ann_bn")
    return {name: train_one(ZOO[name], *small_train, epochs=1, seed=0, batch_size=16, verbose=0) for name in names}


def exported(trained, name: str) -> LiteRTRuntime:
    return LiteRTRuntime(name, tflite_flatbuffer(trained[name]))


@pytest.mark.parametrize("name", ["cnn", "ann_bn"])
def test_litert_and_tensorflow_give_the_keras_probabilities(trained, small_test, name):
    expected = trained[name].predict(small_test[0], verbose=0)
    for runtime in (exported(trained, name), TensorFlowRuntime(name, trained[name])):
        np.testing.assert_allclose(runtime.predict(small_test[0]).probabilities, expected, atol=1e-5)


def test_one_image_then_a_batch_then_one_image_again(trained, small_test):
    """The interpreter is re-planned when the batch size changes, and the answers do not drift."""
    runtime = exported(trained, "cnn")
    images = small_test[0][:7]
    batch = runtime.predict(images).probabilities
    singles = np.concatenate([runtime.predict(image).probabilities for image in images])
    np.testing.assert_allclose(singles, batch, atol=1e-5)


def test_monte_carlo_on_litert_samples_fresh_masks_around_the_keras_mean(trained, small_test):
    model = trained["cnn_mcd"]
    runtime = exported(trained, "cnn_mcd")
    assert runtime.uncertainty
    images = small_test[0][:20]
    first, second = runtime.predict(images), runtime.predict(images)
    assert not np.allclose(first.probabilities, second.probabilities), "each call must draw new dropout masks"
    assert first.std is not None and (first.std > 0).any()
    passes = model(np.tile(images, (200, 1, 1)), training=False).numpy().reshape(200, len(images), 10).mean(axis=0)
    assert np.abs(first.probabilities - passes).max() < 0.15


def test_threads_share_one_runtime_safely(trained, small_test):
    runtime = exported(trained, "ann")
    images = small_test[0][:64]
    expected = runtime.predict(images).probabilities
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda i: runtime.predict(images[i]).probabilities[0], range(len(images))))
    np.testing.assert_allclose(np.stack(answers), expected, atol=1e-5)
