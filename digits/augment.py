"""Training-time augmentation that mimics how people draw: elastic wobble of the strokes, shifted,
rotated, resized, thicker or thinner strokes. Applied to batches inside the tf.data pipeline, never
at inference."""

from __future__ import annotations

import math
from typing import Any

from digits.config import IMAGE_SIZE

ELASTIC_SHARE = 0.5  # share of each batch bent elastically (the rest keeps MNIST's own strokes)
ELASTIC_ALPHA = 2.5  # largest displacement of the smoothed field, in pixels
ELASTIC_SIGMA = 3.0  # smoothing of the displacement field, in pixels (Simard et al. use 4 at alpha 34)


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
    bend = make_elastic(generator)

    def augment(images: tf.Tensor) -> tf.Tensor:
        bent = bend(images)
        images = tf.where(generator.uniform([tf.shape(images)[0], 1, 1]) < ELASTIC_SHARE, bent, images)
        x = geometry(images[..., None], training=True)
        thicker = tf.nn.max_pool2d(x, ksize=2, strides=1, padding="SAME")
        thinner = -tf.nn.max_pool2d(-x, ksize=2, strides=1, padding="SAME")
        choice = generator.uniform([tf.shape(x)[0], 1, 1, 1])
        x = tf.where(choice < 0.25, thicker, tf.where(choice > 0.9, tf.maximum(thinner, 0.5 * x), x))
        return tf.clip_by_value(x[..., 0], 0.0, 1.0)

    return augment


def augmented_batches(x: Any, y: Any, *, seed: int, batch_size: int) -> Any:
    """A tf.data pipeline of shuffled, augmented (images, int32 labels) batches, reshuffled each epoch."""
    import tensorflow as tf

    augment = make_augmenter(seed)
    return (
        tf.data.Dataset.from_tensor_slices((x, y.astype("int32")))
        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
        .map(lambda images, labels: (augment(images), labels), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def make_elastic(generator: Any, *, alpha: float = ELASTIC_ALPHA, sigma: float = ELASTIC_SIGMA) -> Any:
    """Elastic distortion (Simard, Steinkraus & Platt 2003): every pixel moves along a random field
    smoothed by a Gaussian, so strokes wobble as a hand's do; sampled bilinearly, ink off the edge
    is lost. (n, 28, 28) -> (n, 28, 28)."""
    import tensorflow as tf

    radius = math.ceil(2 * sigma)
    taps = tf.exp(-tf.square(tf.range(-radius, radius + 1, dtype=tf.float32)) / (2 * sigma**2))
    taps /= tf.reduce_sum(taps)
    kernel = tf.tile((taps[:, None] * taps[None, :])[:, :, None, None], [1, 1, 2, 1])
    rows, cols = tf.meshgrid(
        tf.range(IMAGE_SIZE, dtype=tf.float32), tf.range(IMAGE_SIZE, dtype=tf.float32), indexing="ij"
    )
    side = IMAGE_SIZE + 2  # sampled from a copy padded with one row and column of blank paper

    def bend(images: tf.Tensor) -> tf.Tensor:
        n = tf.shape(images)[0]
        field = tf.nn.depthwise_conv2d(
            generator.uniform([n, IMAGE_SIZE, IMAGE_SIZE, 2], -1.0, 1.0), kernel, [1, 1, 1, 1], "SAME"
        )
        field *= alpha / tf.maximum(tf.reduce_max(tf.abs(field), axis=[1, 2, 3], keepdims=True), 1e-6)
        r = tf.clip_by_value(rows + field[..., 0] + 1.0, 0.0, side - 1.0)
        c = tf.clip_by_value(cols + field[..., 1] + 1.0, 0.0, side - 1.0)
        r0, c0 = tf.floor(r), tf.floor(c)
        wr, wc = r - r0, c - c0
        r0, c0 = tf.cast(r0, tf.int32), tf.cast(c0, tf.int32)
        r1, c1 = tf.minimum(r0 + 1, side - 1), tf.minimum(c0 + 1, side - 1)
        flat = tf.reshape(tf.pad(images, [[0, 0], [1, 1], [1, 1]]), [n, side * side])

        def at(ri: tf.Tensor, ci: tf.Tensor) -> tf.Tensor:
            index = tf.reshape(ri * side + ci, [n, IMAGE_SIZE * IMAGE_SIZE])
            return tf.reshape(tf.gather(flat, index, batch_dims=1), [n, IMAGE_SIZE, IMAGE_SIZE])

        top = at(r0, c0) * (1 - wc) + at(r0, c1) * wc
        bottom = at(r1, c0) * (1 - wc) + at(r1, c1) * wc
        return top * (1 - wr) + bottom * wr

    return bend
