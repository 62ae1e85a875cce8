"""The fast engine (TensorFlow Lite, converted at load time) answers as plain Keras does, and the
TensorFlow-function engine stays available as the fallback."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from digits.runtime import KerasRuntime
from digits.train import train_one
from digits.zoo import ZOO


@pytest.fixture(scope="module")
def trained(small_train):
    names = ("cnn", "cnn_mcd", "ann", "ann_bn")
    return {name: train_one(ZOO[name], *small_train, epochs=1, seed=0, batch_size=16, verbose=0) for name in names}


@pytest.mark.parametrize("name", ["cnn", "ann_bn"])
@pytest.mark.parametrize("engine", ["tflite", "tf"])
def test_every_engine_gives_the_keras_probabilities(trained, small_test, name, engine):
    model = trained[name]
    runtime = KerasRuntime(name, model, engine=engine)
    assert runtime.engine == engine
    expected = model.predict(small_test[0], verbose=0)
    np.testing.assert_allclose(runtime.predict(small_test[0]).probabilities, expected, atol=1e-5)


def test_one_image_then_a_batch_then_one_image_again(trained, small_test):
    """The interpreter is re-planned when the batch size changes, and the answers do not drift."""
    runtime = KerasRuntime("cnn", trained["cnn"], engine="tflite")
    images = small_test[0][:7]
    batch = runtime.predict(images).probabilities
    singles = np.concatenate([runtime.predict(image).probabilities for image in images])
    np.testing.assert_allclose(singles, batch, atol=1e-5)


def test_monte_carlo_on_tflite_samples_fresh_masks_around_the_keras_mean(trained, small_test):
    model = trained["cnn_mcd"]
    runtime = KerasRuntime("cnn_mcd", model, engine="tflite")
    assert runtime.engine == "tflite" and runtime.uncertainty
    images = small_test[0][:20]
    first, second = runtime.predict(images), runtime.predict(images)
    assert not np.allclose(first.probabilities, second.probabilities), "each call must draw new dropout masks"
    assert (first.std > 0).any()
    passes = model(np.tile(images, (200, 1, 1)), training=False).numpy().reshape(200, len(images), 10).mean(axis=0)
    assert np.abs(first.probabilities - passes).max() < 0.15


def test_threads_share_one_runtime_safely(trained, small_test):
    runtime = KerasRuntime("ann", trained["ann"], engine="tflite")
    images = small_test[0][:64]
    expected = runtime.predict(images).probabilities
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda i: runtime.predict(images[i]).probabilities[0], range(len(images))))
    np.testing.assert_allclose(np.stack(answers), expected, atol=1e-5)


def test_an_unknown_engine_is_refused(trained):
    with pytest.raises(ValueError, match="unknown Keras engine"):
        KerasRuntime("ann", trained["ann"], engine="onnx")
