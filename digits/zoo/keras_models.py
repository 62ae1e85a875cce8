"""Keras builders for the neural members of the zoo, and the Monte-Carlo dropout layer.

Models take float32 (n, 28, 28) in 0..1 (from `digits.preprocess`) and output softmax
probabilities. Nothing is built or imported from TensorFlow until a builder is called.
"""

from __future__ import annotations

import keras
from keras import layers

from digits.config import IMAGE_SIZE, NUM_CLASSES


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


def _cnn(name: str, *, head_dropout: type[layers.Dropout]) -> keras.Model:
    """Two conv blocks then a dense head; any Monte-Carlo dropout lives only in the head, so the
    convolutional features can be computed once and only the head sampled many times."""
    inputs = _inputs()
    x = layers.Reshape((IMAGE_SIZE, IMAGE_SIZE, 1))(inputs)
    for filters in (32, 64):
        x = layers.Conv2D(filters, 3, use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2D(filters, 3, use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = head_dropout(0.3)(x)
    x = layers.Dense(128, activation="relu")(x)
    x = head_dropout(0.4)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
    return _classifier(name, inputs, outputs)


def build_cnn() -> keras.Model:
    """A small VGG-style convolutional network."""
    return _cnn("cnn", head_dropout=layers.Dropout)


def build_cnn_mcd() -> keras.Model:
    """The convolutional network with Monte-Carlo dropout in its head."""
    return _cnn("cnn_mcd", head_dropout=MCDropout)
