"""The detector of touching digits: how likely a group of strokes is to hold several digits.

`digits.segment` asks it of every group it reads with a classifier; `digits.train_touching` fits it and
stores it under `touching_digits` in a model's manifest entry. It is a tiny convolutional network
(two 3x3 convolutions with 2x2 max pooling, then one hidden layer that also sees the group's shape
facts, `Crop.shape_facts` in `digits.segment.crop`), run here in NumPy: no framework is loaded to
serve it, and its ~14,000 parameters travel as float16 in base64 inside the manifest (~38 kB),
which stays the one artifact to verify. Nothing is unpickled.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from digits.arraycodec import decode_array, encode_array
from digits.config import IMAGE_SIZE
from digits.segment import SHAPE_FACTS, TouchingDetector

MANIFEST_KEY = "touching_digits"  # the manifest entry's field that holds the fitted detector's weights
KERNEL = 3  # side of both convolutions' kernels
POOLED_SIDE = ((IMAGE_SIZE - KERNEL + 1) // 2 - KERNEL + 1) // 2  # side of the second pooled map (5)
Weights = list[np.ndarray]  # kernel, bias, kernel, bias, dense, bias, output, bias (Keras's order)


def touching_detector(entry: dict[str, Any]) -> TouchingDetector | None:
    """The detector stored in a model's manifest entry, or None when it has none."""
    stored = entry.get(MANIFEST_KEY)
    return None if stored is None else detector_from_weights(stored)


def detector_from_weights(stored: dict[str, Any]) -> TouchingDetector:
    """The detector whose stored weights these are; ValueError when they are malformed."""
    weights = decode_weights(stored)

    def several_digits(images: np.ndarray, facts: np.ndarray) -> np.ndarray:
        return _forward(weights, images, facts)

    return several_digits


def encode_weights(weights: Weights) -> dict[str, Any]:
    """Parameters as float16 base64 with their shapes (what the manifest stores)."""
    flat = np.concatenate([np.asarray(w, dtype=np.float32).ravel() for w in weights])
    return {"shapes": [list(np.shape(w)) for w in weights], "weights": encode_array(flat)}


def decode_weights(stored: dict[str, Any]) -> Weights:
    """The stored parameters, checked to fit the network's layout and to be finite numbers."""
    try:
        shapes = [tuple(int(n) for n in shape) for shape in stored["shapes"]]
        flat = decode_array(stored["weights"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{MANIFEST_KEY}: unreadable parameters ({error})") from error
    _check_layout(shapes)
    sizes = [math.prod(shape) for shape in shapes]
    if flat.size != sum(sizes) or not np.isfinite(flat).all():
        raise ValueError(f"{MANIFEST_KEY}: expected {sum(sizes)} finite parameters, found {flat.size}")
    pieces = np.split(flat, np.cumsum(sizes)[:-1])
    return [piece.reshape(shape) for piece, shape in zip(pieces, shapes, strict=True)]


def _check_layout(shapes: list[tuple[int, ...]]) -> None:
    """Shapes must chain: 1 input channel, f1 then f2 filters, a hidden layer of n units, 1 output."""
    if len(shapes) != 8 or len(shapes[0]) != 4 or len(shapes[2]) != 4 or len(shapes[4]) != 2:
        raise ValueError(f"{MANIFEST_KEY}: expected 8 arrays (two convolutions, two dense layers)")
    filters1, filters2, units = shapes[0][3], shapes[2][3], shapes[4][1]
    expected = [
        (KERNEL, KERNEL, 1, filters1),
        (filters1,),
        (KERNEL, KERNEL, filters1, filters2),
        (filters2,),
        (POOLED_SIDE * POOLED_SIDE * filters2 + SHAPE_FACTS, units),
        (units,),
        (units, 1),
        (1,),
    ]
    if shapes != expected:
        raise ValueError(f"{MANIFEST_KEY}: shapes {shapes} do not chain as {expected}")


def _forward(weights: Weights, images: np.ndarray, facts: np.ndarray) -> np.ndarray:
    """The network on (n, 28, 28) inputs and (n, SHAPE_FACTS) shape facts: (n,) probabilities."""
    kernel1, bias1, kernel2, bias2, dense, dense_bias, output, output_bias = weights
    maps = _max_pool(_convolve(np.asarray(images, dtype=np.float32)[..., None], kernel1, bias1))
    maps = _max_pool(_convolve(maps, kernel2, bias2))
    hidden = np.hstack([maps.reshape(len(maps), -1), np.asarray(facts, dtype=np.float32)]) @ dense + dense_bias
    logits = np.maximum(hidden, 0.0) @ output + output_bias
    return 1.0 / (1.0 + np.exp(-logits[:, 0]))


def _convolve(maps: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """A valid 3x3 convolution then ReLU, channels last (as Keras's Conv2D), as one matrix product."""
    windows = sliding_window_view(maps, (KERNEL, KERNEL), axis=(1, 2))  # (n, h, w, channels, 3, 3)
    n, height, width = windows.shape[:3]
    flat_kernel = kernel.transpose(2, 0, 1, 3).reshape(-1, kernel.shape[3])  # rows in the windows' order
    products = windows.reshape(n * height * width, -1) @ flat_kernel
    return np.maximum(products.reshape(n, height, width, -1) + bias, 0.0)


def _max_pool(maps: np.ndarray) -> np.ndarray:
    """2x2 max pooling, dropping an odd last row and column (as Keras's MaxPooling2D): the larger of
    four strided views, far cheaper than reshaping a copy."""
    rows, cols = 2 * (maps.shape[1] // 2), 2 * (maps.shape[2] // 2)
    top = np.maximum(maps[:, 0:rows:2, 0:cols:2], maps[:, 0:rows:2, 1:cols:2])
    return np.maximum(top, np.maximum(maps[:, 1:rows:2, 0:cols:2], maps[:, 1:rows:2, 1:cols:2]))
