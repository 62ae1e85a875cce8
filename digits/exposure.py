"""Outlier exposure (Hendrycks, Mazeika & Dietterich, 2019): fine-tune a network trained on digits
so that negative drawings get flat probabilities, while it keeps reading digits.

The loss is the usual cross-entropy on digits plus, for each negative, `weight` times the
cross-entropy from the uniform distribution to the network's softmax. The batch-normalisation
layers are frozen: their statistics stay those of digits, so negatives in a batch cannot shift
how digits are normalised. Nothing here knows which families the negatives come from; the caller
(`digits.novelty`) leaves a family out to measure how the exposure carries over to it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

NEGATIVE = -1  # label of a negative drawing in the fine-tuning data


@dataclass(frozen=True)
class Exposure:
    """How a trunk is fine-tuned. The defaults were set before any held-out figure was seen:
    Hendrycks et al.'s weight, and a learning rate a fifth of the trunk's own start."""

    epochs: int = 3
    weight: float = 0.5
    learning_rate: float = 2e-4
    batch_size: int = 128
    seed: int = 0

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


def flat_on_negatives(weight: float) -> Any:
    """Loss on logits: cross-entropy for labelled digits, `weight` x cross-entropy to the uniform
    distribution for `NEGATIVE` labels."""
    import keras

    ops = keras.ops

    def loss(labels: Any, logits: Any) -> Any:
        labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
        log_probabilities = logits - ops.logsumexp(logits, axis=1, keepdims=True)
        picked = ops.take_along_axis(log_probabilities, ops.maximum(labels, 0)[:, None], axis=1)[:, 0]
        flat = ops.mean(log_probabilities, axis=1)
        return -ops.where(labels == NEGATIVE, weight * flat, picked)

    return loss


def expose(
    model: Any,
    digits: np.ndarray,
    labels: np.ndarray,
    negatives: np.ndarray,
    exposure: Exposure = Exposure(),
    *,
    verbose: int = 0,
) -> Any:
    """A copy of `model` (a network with a `logits` layer) fine-tuned on `digits` with their
    `labels` and on `negatives`, augmented as in training; `model` itself is left as it was."""
    import keras

    from digits.augment import augmented_batches

    keras.utils.set_random_seed(exposure.seed)
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    for layer in copy.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    x = np.concatenate([digits, negatives]).astype(np.float32)
    y = np.r_[np.asarray(labels, dtype=np.int32), np.full(len(negatives), NEGATIVE, dtype=np.int32)]
    steps = exposure.epochs * int(np.ceil(len(x) / exposure.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(exposure.learning_rate, decay_steps=max(1, steps), alpha=0.05)
    logits = keras.Model(copy.inputs, copy.get_layer("logits").output)
    logits.compile(optimizer=keras.optimizers.Adam(learning_rate=schedule), loss=flat_on_negatives(exposure.weight))
    batches = augmented_batches(x, y, seed=exposure.seed, batch_size=exposure.batch_size)
    logits.fit(batches, epochs=exposure.epochs, shuffle=False, verbose=verbose)
    return copy
