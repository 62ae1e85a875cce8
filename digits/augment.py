"""Training-time augmentation that mimics how people draw: shifted, rotated, resized, thicker or
thinner strokes. Applied to batches inside the tf.data pipeline, never at inference."""

from __future__ import annotations

from typing import Any


def make_augmenter(seed: int = 0) -> Any:
    """Return a function mapping a float32 (n, 28, 28) batch to an augmented batch."""
    import keras
    import tensorflow as tf

    geometry = keras.Sequential(
        [
            keras.layers.RandomRotation(0.04, fill_mode="constant", seed=seed),  # about +-15 degrees
            keras.layers.RandomZoom((-0.15, 0.15), fill_mode="constant", seed=seed + 1),
            keras.layers.RandomTranslation(0.08, 0.08, fill_mode="constant", seed=seed + 2),
        ]
    )
    generator = tf.random.Generator.from_seed(seed + 3)

    def augment(images: tf.Tensor) -> tf.Tensor:
        x = geometry(images[..., None], training=True)
        thicker = tf.nn.max_pool2d(x, ksize=2, strides=1, padding="SAME")
        thinner = -tf.nn.max_pool2d(-x, ksize=2, strides=1, padding="SAME")
        choice = generator.uniform([tf.shape(x)[0], 1, 1, 1])
        x = tf.where(choice < 0.25, thicker, tf.where(choice > 0.9, tf.maximum(thinner, 0.5 * x), x))
        return tf.clip_by_value(x[..., 0], 0.0, 1.0)

    return augment
