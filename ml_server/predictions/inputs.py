"""Turn the body of a request about ONE digit into the model's 28x28 input.

Shared by `POST /predict` (each form of the contract) and `POST /feedback`, so a drawing is read
the same way wherever it arrives. Every failure is an `ApiError` carrying the contract's code.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from core.errors import ApiError

from digits.config import IMAGE_SIZE
from digits.preprocess import PreprocessError, normalize_digit_image, normalize_ink, pixels_to_input

IMAGE_MEDIA_TYPES = frozenset({"image/png", "image/jpeg", "image/jpg", "image/webp", "image/bmp", "image/x-ms-bmp"})
DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(?:;[\w.+-]+=[\w.+-]+)*)(?P<b64>;base64)?,", re.I)
GRID_CELLS = IMAGE_SIZE * IMAGE_SIZE
INPUT_FIELDS = ("image", "pixels", "digit")
MAX_INSTANCES = 256


class DigitInput(NamedTuple):
    """What a request said about one digit: the picture as sent (None for pixels or the grid form)
    and the float32 (28, 28) input in 0..1 that the model sees."""

    image_bytes: bytes | None
    pixels: np.ndarray


def parse_digit_input(data: Any, files: Mapping[str, Any] | None = None) -> DigitInput:
    """Read one digit from a parsed body: a JSON object or a form/multipart QueryDict (+ files).

    Exactly one of: file or field `image` (PNG/JPEG/WebP/BMP bytes, base64 or a data URL),
    `pixels` (28x28 or 784 numbers, 0..1 or 0..255, MNIST-style, used as given) or `digit`
    (the grid client's 784 characters of 0/1, normalized like a drawing). Other keys are ignored.
    """
    data = require_object(data)
    uploaded = (files or {}).get("image")
    given = [field for field in INPUT_FIELDS if _present(data, field)]
    if uploaded is not None and "image" not in given:
        given.insert(0, "image")
    if len(given) != 1:
        raise ApiError(
            "Send exactly one of 'image' (file, base64 or data URL), 'pixels' (28x28 numbers) or 'digit' (784 0/1)."
            + (f" Got: {', '.join(given)}." if given else ""),
            code="invalid_request",
        )
    field = given[0]
    if field == "image":
        image_bytes = read_image_bytes(data, files)
        return DigitInput(image_bytes, _preprocess(normalize_digit_image, image_bytes))
    if field == "pixels":
        return DigitInput(None, parse_pixels(data["pixels"]))
    return DigitInput(None, parse_grid(data["digit"]))


def read_image_bytes(data: Any, files: Mapping[str, Any] | None = None) -> bytes:
    """The image of a request as bytes: the uploaded file `image`, else the field `image` given as
    base64 or as a data URL of an image type. Decoding into pixels is left to `digits.preprocess`."""
    data = require_object(data)
    uploaded = (files or {}).get("image")
    if uploaded is not None:
        return uploaded.read()
    if not _present(data, "image"):
        raise ApiError("Send the picture as the file field 'image' or as base64 / a data URL in 'image'.")
    return decode_image_string(data["image"])


def decode_image_string(value: Any) -> bytes:
    """Bytes of an image given as plain base64 or as `data:image/png;base64,...`."""
    if not isinstance(value, str):
        raise ApiError(
            "'image' must be a string: base64 or a data URL of a PNG, JPEG, WebP or BMP image.", code="invalid_image"
        )
    text = value.strip()
    match = DATA_URL.match(text)
    if text[:5].lower() == "data:" and match is None:
        raise ApiError("'image' is not a well-formed data URL.", code="invalid_image")
    if match is not None:
        media_type = (match["type"] or "text/plain").lower()
        if media_type not in IMAGE_MEDIA_TYPES:
            raise ApiError(
                f"The data URL holds {media_type}; send a PNG, JPEG, WebP or BMP image.", code="invalid_image"
            )
        if not match["b64"]:
            raise ApiError("The data URL must be base64-encoded (';base64,').", code="invalid_image")
        text = text[match.end() :]
    compact = "".join(text.split())
    try:
        decoded = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ApiError("'image' is not valid base64.", code="invalid_image") from error
    if not decoded:
        raise ApiError("'image' is empty.", code="invalid_image")
    return decoded


def parse_pixels(values: Any) -> np.ndarray:
    """MNIST-style pixels (white ink on black): only real numbers are accepted, not strings or booleans."""
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as error:  # ragged nesting
        raise ApiError(
            "pixels must be a 28x28 nested list or a flat list of 784 numbers.", code="invalid_pixels"
        ) from error
    if array.dtype.kind not in "iuf":
        raise ApiError("pixels must be numbers (not strings, booleans or nulls).", code="invalid_pixels")
    return _preprocess(pixels_to_input, array)


def parse_grid(value: Any) -> np.ndarray:
    """The original grid client's `digit`: 784 characters of 0/1, row-major, 1 = ink.

    The grid is a drawing, not an MNIST digit, so it is cropped, scaled and centred like one."""
    if not isinstance(value, str) or len(value) != GRID_CELLS or set(value) - {"0", "1"}:
        raise ApiError(
            f"'digit' must be {GRID_CELLS} characters of 0 and 1 (row-major, 1 = ink).", code="invalid_pixels"
        )
    grid = (np.frombuffer(value.encode("ascii"), dtype=np.uint8) - ord("0")).astype(np.float32)
    return _preprocess(normalize_ink, grid.reshape(IMAGE_SIZE, IMAGE_SIZE))


def parse_instances(value: Any) -> list[DigitInput]:
    """The batch form's `instances`: 1 to `MAX_INSTANCES` objects, each one digit's `image` or `pixels`."""
    if not isinstance(value, list) or not value:
        raise ApiError("'instances' must be a non-empty list of {'image': ...} or {'pixels': ...} objects.")
    if len(value) > MAX_INSTANCES:
        raise ApiError(f"At most {MAX_INSTANCES} instances per request; got {len(value)}.")
    inputs = []
    for index, instance in enumerate(value):
        try:
            inputs.append(parse_digit_input(instance))
        except ApiError as error:
            raise ApiError(
                f"instances[{index}]: {error.message}", code=error.code, status_code=error.status_code
            ) from error
    return inputs


def requested_model(data: Mapping[str, Any]) -> object | None:
    """The `model` field as sent (None or "" for the default); the registry decides if it is known."""
    name = data.get("model")
    return None if name in (None, "") else name


def wants_input(data: Mapping[str, Any]) -> bool:
    """`return_input`: JSON true, or "true"/"1"/"yes"/"on" in a form."""
    flag = data.get("return_input")
    return flag is True or (isinstance(flag, str) and flag.strip().lower() in {"1", "true", "yes", "on"})


def require_object(data: Any) -> Mapping[str, Any]:
    """A body must be a JSON object or a form; a JSON list, string or number is a malformed request."""
    if not isinstance(data, Mapping):
        raise ApiError("The request body must be a JSON object (or a form).", code="invalid_request")
    return data


def _present(data: Mapping[str, Any], field: str) -> bool:
    return field in data and data[field] is not None


def preprocess_api_error(error: PreprocessError) -> ApiError:
    """The library's preprocessing error as the contract's: its `.code`, 413 for too_large, else 400."""
    return ApiError(str(error), code=error.code, status_code=413 if error.code == "too_large" else 400)


def _preprocess(function: Any, value: Any) -> np.ndarray:
    try:
        return function(value)
    except PreprocessError as error:
        raise preprocess_api_error(error) from error
