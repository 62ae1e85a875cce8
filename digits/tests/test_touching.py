"""The detector of touching digits: its NumPy network, its stored form, and the committed one."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import ndimage

from digits.config import MODELS_DIR
from digits.data import load_mnist
from digits.segment import SHAPE_FACTS
from digits.touching import (
    MANIFEST_KEY,
    POOLED_SIDE,
    _forward,
    decode_weights,
    detector_from_weights,
    encode_weights,
    touching_detector,
)
from digits.train_touching import drawn_groups


def random_weights(rng: np.random.Generator, filters: tuple[int, int] = (2, 3), units: int = 4) -> list[np.ndarray]:
    shapes = [
        (3, 3, 1, filters[0]),
        (filters[0],),
        (3, 3, filters[0], filters[1]),
        (filters[1],),
        (POOLED_SIDE * POOLED_SIDE * filters[1] + SHAPE_FACTS, units),
        (units,),
        (units, 1),
        (1,),
    ]
    return [rng.normal(0.0, 0.3, shape).astype(np.float32) for shape in shapes]


def reference_forward(weights: list[np.ndarray], images: np.ndarray, facts: np.ndarray) -> np.ndarray:
    """The same network written the slow, obvious way: loops for the convolutions, a max filter for
    the pooling."""
    kernel1, bias1, kernel2, bias2, dense, dense_bias, output, output_bias = weights
    maps = images[..., None].astype(np.float64)
    for kernel, bias in ((kernel1, bias1), (kernel2, bias2)):
        size = maps.shape[1] - 2
        convolved = np.zeros((len(maps), size, size, kernel.shape[3]))
        for i in range(3):
            for j in range(3):
                convolved += np.tensordot(maps[:, i : i + size, j : j + size], kernel[i, j], axes=([3], [0]))
        convolved = np.maximum(convolved + bias, 0.0)
        pooled = ndimage.maximum_filter(convolved, size=(1, 2, 2, 1), origin=(0, -1, -1, 0))
        maps = pooled[:, : 2 * (size // 2) : 2, : 2 * (size // 2) : 2]
    hidden = np.maximum(np.hstack([maps.reshape(len(maps), -1), facts]) @ dense + dense_bias, 0.0)
    return 1.0 / (1.0 + np.exp(-(hidden @ output + output_bias)[:, 0]))


def test_the_numpy_network_computes_what_a_plain_convolutional_network_would():
    rng = np.random.default_rng(0)
    weights = random_weights(rng)
    images, facts = rng.random((5, 28, 28)).astype(np.float32), rng.normal(size=(5, SHAPE_FACTS))
    np.testing.assert_allclose(_forward(weights, images, facts), reference_forward(weights, images, facts), atol=1e-5)


def test_the_weights_survive_json_as_float16_parameters():
    rng = np.random.default_rng(1)
    weights = random_weights(rng)
    stored = json.loads(json.dumps(encode_weights(weights)))
    for decoded, original in zip(decode_weights(stored), weights, strict=True):
        np.testing.assert_allclose(decoded, original, rtol=1e-3, atol=1e-3)
    images, facts = rng.random((3, 28, 28)), rng.normal(size=(3, SHAPE_FACTS))
    np.testing.assert_allclose(
        detector_from_weights(stored)(images, facts), _forward(weights, images, facts), atol=1e-2
    )


@pytest.mark.parametrize(
    "spoil",
    [
        lambda stored: {**stored, "weights": "not base64!"},
        lambda stored: {**stored, "shapes": stored["shapes"][:-1]},
        lambda stored: {**stored, "shapes": [[3, 3, 2, 2], *stored["shapes"][1:]]},  # two input channels
        lambda stored: {k: v for k, v in stored.items() if k != "weights"},
        lambda stored: encode_weights([np.full_like(w, np.inf) for w in decode_weights(stored)]),
    ],
)
def test_malformed_weights_are_refused(spoil):
    stored = encode_weights(random_weights(np.random.default_rng(2)))
    with pytest.raises(ValueError, match=MANIFEST_KEY):
        detector_from_weights(spoil(stored))


def test_an_entry_without_a_detector_has_none():
    assert touching_detector({"name": "knn", "file": "knn.pkl"}) is None


def test_the_committed_detector_tells_touching_test_digits_from_lone_ones():
    """On groups of numbers drawn from MNIST test digits (never seen in fitting)."""
    entry = next(m for m in json.loads((MODELS_DIR / "manifest.json").read_text())["models"] if m["name"] == "cnn")
    detect = touching_detector(entry)
    assert detect is not None
    inputs, facts, several = drawn_groups(load_mnist().x_test, count=150, seed=7)
    called_several = detect(inputs, facts) > 0.5
    assert several.sum() >= 10
    assert called_several[several].mean() > 0.9
    assert called_several[~several].mean() < 0.02
