"""Outlier exposure: the loss, and a fine-tune that flattens what the network says of negatives
without touching the model it copies."""

import numpy as np
import pytest

from digits.exposure import NEGATIVE, Exposure, expose, flat_on_negatives
from digits.negatives import negative_inputs
from digits.negatives.doodles import draw
from digits.train import train_one
from digits.zoo import ZOO


def test_the_loss_is_cross_entropy_on_digits_and_distance_from_flat_on_negatives():
    logits = np.array([[3.0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0.0] * 10, [3.0, 0, 0, 0, 0, 0, 0, 0, 0, 0]], "float32")
    labels = np.array([0, NEGATIVE, NEGATIVE])

    losses = np.asarray(flat_on_negatives(0.5)(labels, logits))

    log_partition = np.log(np.exp(3.0) + 9)
    assert losses[0] == pytest.approx(log_partition - 3.0, rel=1e-5)
    assert losses[1] == pytest.approx(0.5 * np.log(10), rel=1e-5)  # already flat: the least a negative costs
    assert losses[2] == pytest.approx(0.5 * (log_partition - 0.3), rel=1e-5)


@pytest.fixture(scope="module")
def tiny_cnn(small_train):
    return train_one(ZOO["cnn"], *small_train, epochs=10, seed=0, verbose=0)


def test_exposure_flattens_the_negatives_it_saw_and_leaves_the_original_alone(tiny_cnn, small_train):
    negatives = negative_inputs(draw, 200, seed=0)
    before = [weight.copy() for weight in tiny_cnn.get_weights()]
    exposure = Exposure(epochs=6, weight=2.0, learning_rate=1e-3)

    exposed = expose(tiny_cnn, *small_train, negatives, exposure)
    # The same fine-tune without negatives: more epochs on digits make the tiny network surer of
    # everything, so the negatives' effect shows against this, not against the model before.
    digits_only = expose(tiny_cnn, *small_train, negatives[:0], exposure)

    def confidence(model) -> float:
        return float(model.predict(negatives, verbose=0).max(axis=1).mean())

    assert confidence(exposed) < confidence(digits_only) - 0.1
    assert all(np.array_equal(a, b) for a, b in zip(before, tiny_cnn.get_weights(), strict=True))
    original_norm = tiny_cnn.get_layer(index=_first_batch_norm(tiny_cnn))
    exposed_norm = exposed.get_layer(index=_first_batch_norm(exposed))
    np.testing.assert_array_equal(exposed_norm.moving_mean, original_norm.moving_mean)  # digits' statistics kept


def _first_batch_norm(model) -> int:
    return next(i for i, layer in enumerate(model.layers) if type(layer).__name__ == "BatchNormalization")
