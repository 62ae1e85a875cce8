"""Keras builders for the neural members of the zoo, and the Monte-Carlo dropout layer.

Models take float32 (n, 28, 28) in 0..1 (from `digits.preprocess`) and output softmax
probabilities. Nothing is built or imported from TensorFlow until a builder is called.
"""

from __future__ import annotations

import keras
from keras import layers

from digits.config import IMAGE_SIZE, NUM_CLASSES
from digits.notadigit import SUBSPACE_COMPONENTS, SUBSPACE_POOL


@keras.saving.register_keras_serializable(package="digits")
class MCDropout(layers.Dropout):
    """Dropout that stays on at inference, so repeated passes sample the model's uncertainty."""

    def call(self, inputs, training=None):  # noqa: ARG002 - always stochastic by design
        return super().call(inputs, training=True)


def _inputs() -> keras.KerasTensor:
    return keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE), name="digit")


def _classifier(name: str, inputs: keras.KerasTensor, outputs: keras.KerasTensor) -> keras.Model:
    model = keras.Model(inputs, outputs, name=name)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _mlp(name: str, *, dropout: type[layers.Dropout] | None, batch_norm: bool) -> keras.Model:
    inputs = _inputs()
    x = layers.Flatten()(inputs)
    for units in (512, 256):
        x = layers.Dense(units, use_bias=not batch_norm)(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.Activation("relu")(x)
        if dropout is not None:
            x = dropout(0.25)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
    return _classifier(name, inputs, outputs)


def build_ann() -> keras.Model:
    """Two hidden layers with dropout: the classic MNIST multilayer perceptron."""
    return _mlp("ann", dropout=layers.Dropout, batch_norm=False)


def build_ann_bn() -> keras.Model:
    """The perceptron with batch normalisation instead of dropout."""
    return _mlp("ann_bn", dropout=None, batch_norm=True)


def build_ann_mcd() -> keras.Model:
    """The perceptron whose dropout stays on at inference (Monte-Carlo dropout)."""
    return _mlp("ann_mcd", dropout=MCDropout, batch_norm=False)


def _conv_block(x: keras.KerasTensor, filters: int, convolutions: int) -> keras.KerasTensor:
    for _ in range(convolutions):
        x = layers.Conv2D(filters, 3, use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.Activation("relu")(x)
    return x


def _cnn(name: str, *, head_dropout: type[layers.Dropout], deep: bool = False) -> keras.Model:
    """Conv blocks then a dense head; any Monte-Carlo dropout lives only in the head, so the
    convolutional features can be computed once and only the head sampled many times.

    `deep` adds a third block (128 filters on the 4x4 map) and a batch-normalised head whose output
    is a named layer, `features` (the penultimate representation the not-a-digit score reads),
    followed by `logits` and a separate softmax, so temperature scaling can act on the logits."""
    inputs = _inputs()
    x = layers.Reshape((IMAGE_SIZE, IMAGE_SIZE, 1))(inputs)
    for filters in (32, 64):
        x = layers.MaxPooling2D()(_conv_block(x, filters, 2))
    if deep:
        x = _conv_block(x, 128, 1)
    x = layers.Flatten()(x)
    x = head_dropout(0.3)(x)
    if deep:
        x = layers.Dense(128, use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.Activation("relu", name="features")(x)
        x = head_dropout(0.4)(x)
        logits = layers.Dense(NUM_CLASSES, name="logits")(x)
        return _classifier(name, inputs, layers.Activation("softmax", name="probabilities")(logits))
    x = layers.Dense(128, activation="relu")(x)
    x = head_dropout(0.4)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
    return _classifier(name, inputs, outputs)


def build_cnn() -> keras.Model:
    """A VGG-style convolutional network: three batch-normalised blocks, a batch-normalised head."""
    return _cnn("cnn", head_dropout=layers.Dropout, deep=True)


def build_cnn_mcd() -> keras.Model:
    """The convolutional network with Monte-Carlo dropout in its head."""
    return _cnn("cnn_mcd", head_dropout=MCDropout)


SCORE_SIGNALS = ("energy", "doubt", "subspace")  # appended to the features, before one distance per probe


@keras.saving.register_keras_serializable(package="digits")
class NotADigitScore(layers.Layer):
    """How unlike a digit an input is, 0..1: a logistic model over a classifier's standardised
    penultimate `features` and signals that each grow as the input leaves the digits behind:
    - energy (-logsumexp of the logits) and doubt (1 - top probability);
    - subspace: the share of the (7x7 pooled) input's energy that no digit class's leading
      principal directions explain (as `digits.notadigit.subspace_distance`, in Keras ops so that
      the export computes it);
    - one Mahalanobis distance per probe (pooled activations of several layers, the features last):
      the smallest over the classes, each class with its own mean and covariance, as log1p. Earlier
      layers describe strokes rather than digit identity, so their distances carry over to kinds of
      drawing the fit never saw better than the features alone do.

    Called on `[image, *probes, logits]`. Its weights are fitted outside Keras (`digits.novelty`)
    and set with `set_weights`; the decision threshold is folded into the bias, so a score above
    0.5 means "not a digit"."""

    def __init__(self, probe_sizes: list[int], **kwargs):
        super().__init__(**kwargs)
        self.probe_sizes = [int(size) for size in probe_sizes]
        fixed = {"trainable": False, "initializer": "zeros"}
        pooled = (IMAGE_SIZE // SUBSPACE_POOL) ** 2
        self.subspace_means = self.add_weight(shape=(NUM_CLASSES, pooled), name="subspace_means", **fixed)
        self.subspace_bases = self.add_weight(
            shape=(NUM_CLASSES, SUBSPACE_COMPONENTS, pooled), name="subspace_bases", **fixed
        )
        self.class_means, self.precision_factors = [], []
        for i, size in enumerate(self.probe_sizes):
            self.class_means.append(self.add_weight(shape=(NUM_CLASSES, size), name=f"class_means_{i}", **fixed))
            self.precision_factors.append(
                self.add_weight(shape=(NUM_CLASSES, size, size), name=f"precision_factors_{i}", **fixed)
            )
        width = self.probe_sizes[-1] + len(SCORE_SIGNALS) + len(self.probe_sizes)
        self.center = self.add_weight(shape=(width,), name="center", **fixed)
        self.scale = self.add_weight(shape=(width,), name="scale", trainable=False, initializer="ones")
        self.coefficients = self.add_weight(shape=(width,), name="coefficients", **fixed)
        self.bias = self.add_weight(shape=(), name="bias", **fixed)

    def call(self, inputs):
        return keras.ops.sigmoid(self.logit(inputs))[:, None]

    def signals(self, inputs):
        """The head's inputs before standardisation: (n, features + 3 + probes)."""
        ops = keras.ops
        image, *probes, logits = inputs
        energy = -ops.logsumexp(logits, axis=1)
        doubt = 1.0 - ops.max(ops.softmax(logits, axis=1), axis=1)
        distances = [self._mahalanobis(probe, i) for i, probe in enumerate(probes)]
        scalars = ops.stack([energy, doubt, self._subspace(image), *distances], axis=1)
        return ops.concatenate([probes[-1], scalars], axis=1)

    def _mahalanobis(self, probe, index):
        ops = keras.ops
        centred = ops.transpose(probe[:, None, :] - self.class_means[index][None], (1, 0, 2))  # (classes, n, d)
        whitened = ops.matmul(centred, self.precision_factors[index])  # each class its own covariance
        return ops.log1p(ops.min(ops.sum(whitened * whitened, axis=2), axis=0))

    def _subspace(self, image):
        ops = keras.ops
        side = IMAGE_SIZE // SUBSPACE_POOL
        blocks = ops.reshape(image, (-1, side, SUBSPACE_POOL, side, SUBSPACE_POOL))
        pooled = ops.reshape(ops.mean(blocks, axis=(2, 4)), (-1, side * side))
        centred = ops.transpose(pooled[:, None, :] - self.subspace_means[None], (1, 0, 2))  # (classes, n, pixels)
        coordinates = ops.matmul(centred, ops.transpose(self.subspace_bases, (0, 2, 1)))
        residual = centred - ops.matmul(coordinates, self.subspace_bases)
        return ops.min(ops.sum(residual * residual, axis=2), axis=0) / (ops.sum(pooled * pooled, axis=1) + 1e-9)

    def logit(self, inputs):
        standard = (self.signals(inputs) - self.center) / self.scale
        return keras.ops.sum(standard * self.coefficients, axis=1) + self.bias

    def get_config(self):
        return {**super().get_config(), "probe_sizes": self.probe_sizes}
