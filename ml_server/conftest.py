"""Fixtures shared by the ml_server tests: tiny trained models, settings pointing at them, a client.

Tiny models are trained once per test session (a few seconds, 500 MNIST images, one epoch); their
accuracy is poor but real, which is all the API tests need. Tests that alter the models folder
work on their own copy (`models_copy`).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from rest_framework.test import APIClient

from digits.data import Mnist, load_mnist
from digits.preprocess import to_unit_range

TINY_MODELS = "ann,ann_mcd,knn"
TINY_DEFAULT = "knn"


@pytest.fixture(scope="session")
def tiny_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder with tiny `ann`, `ann_mcd` and `knn`, the Keras ones exported to `.tflite`,
    and a real manifest (sha256, metrics), as `make models` writes it."""
    from digits.export import main as export
    from digits.train import main as train

    out = tmp_path_factory.mktemp("tiny_models")
    arguments = ["--models", TINY_MODELS, "--out", str(out), "--limit", "500", "--epochs", "1"]
    arguments += ["--batch-size", "16", "--test-limit", "200", "--canvas-count", "50", "--quiet"]
    assert train(arguments) == 0
    assert export(["--models-dir", str(out)]) == 0
    return out


def point_registry_at(models_dir: Path | None, default_model: str | None) -> None:
    """Point settings (and so the registry) at a models folder; the registry is rebuilt on next use."""
    from predictions.registry import reset_registry

    django_settings.MODELS_DIR, django_settings.DEFAULT_MODEL = models_dir, default_model
    reset_registry()


@pytest.fixture(scope="session")
def tiny_models(tiny_models_dir: Path) -> Iterator[Path]:
    """Serve the tiny models for the whole session (loaded once), `knn` as default."""
    saved = django_settings.MODELS_DIR, django_settings.DEFAULT_MODEL
    point_registry_at(tiny_models_dir, TINY_DEFAULT)
    yield tiny_models_dir
    point_registry_at(*saved)


@pytest.fixture
def serve_models() -> Iterator[Callable[[Path, str | None], None]]:
    """Point the service at another models folder for one test; the previous one is restored after."""
    saved = django_settings.MODELS_DIR, django_settings.DEFAULT_MODEL
    yield point_registry_at
    point_registry_at(*saved)


@pytest.fixture
def models_copy(tiny_models: Path, tmp_path: Path, serve_models) -> Path:
    """A private copy of the tiny models for tests that break, add or remove files."""
    copy = tmp_path / "models"
    shutil.copytree(tiny_models, copy)
    serve_models(copy, TINY_DEFAULT)
    return copy


@pytest.fixture
def api_client() -> Iterator[APIClient]:
    """A DRF test client with fresh throttle counters."""
    cache.clear()
    yield APIClient()
    cache.clear()


@pytest.fixture(scope="session")
def mnist() -> Mnist:
    return load_mnist()


@pytest.fixture(scope="session")
def mnist_sample(mnist: Mnist) -> tuple[np.ndarray, np.ndarray]:
    """Sixty MNIST test digits (0..1 floats) and their labels."""
    return to_unit_range(mnist.x_test[:60]), mnist.y_test[:60]


@pytest.fixture(scope="session")
def canvas_png(mnist: Mnist) -> bytes:
    """MNIST test digit 0 (a 7) drawn on a 280x280 canvas, as the page would send it."""
    from digits.synthetic import render_canvas_digit

    return render_canvas_digit(mnist.x_test[0], np.random.default_rng(0))


@pytest.fixture(scope="session")
def huge_png() -> bytes:
    """A PNG header announcing 30,000 x 30,000 pixels with no pixel data: only a server that refuses
    on the header (before decoding) answers `too_large`; one that decodes finds it truncated."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )
