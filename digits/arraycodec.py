"""The one codec for numeric arrays stored inside `models/manifest.json`: float16, little-endian,
base64. The manifest is the one artifact whose integrity is checked, so small fitted parameters
(the not-a-digit reference, the detector of touching digits) travel in it rather than in extra
files; float16 halves their size and is far finer than what they need."""

from __future__ import annotations

import base64
import binascii

import numpy as np


def encode_array(array: np.ndarray) -> str:
    """float16 base64 text of the array's values, row-major (the shape is the caller's to keep)."""
    return base64.b64encode(np.asarray(array, dtype="<f2").tobytes()).decode("ascii")


def decode_array(text: str) -> np.ndarray:
    """The values `encode_array` stored, as a flat float32 array; ValueError when the text is not
    base64 of float16 values."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, TypeError, ValueError) as error:
        raise ValueError(f"not base64: {error}") from error
    if len(raw) % 2:
        raise ValueError(f"{len(raw)} bytes is not a whole number of float16 values")
    return np.frombuffer(raw, dtype="<f2").astype(np.float32)
