"""Storing feedback: the one place a correction is written, in a single transaction."""

from __future__ import annotations

import io

import numpy as np
from django.db import transaction
from PIL import Image

from digits.config import IMAGE_SIZE
from digits.preprocess import PreprocessError, decode_image
from feedback.models import Feedback, NumberFeedback, input_to_bytes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def feedback_create(
    *,
    model_input: np.ndarray,
    label: int,
    image_bytes: bytes | None = None,
    predicted: int | None = None,
    model_name: str = "",
) -> Feedback:
    """Store one correction atomically: either the whole row is written or nothing is."""
    image_png = drawing_png(image_bytes) if image_bytes is not None else input_png(model_input)
    with transaction.atomic():
        return Feedback.objects.create(
            image_png=image_png,
            model_input=input_to_bytes(model_input),
            label=label,
            predicted=predicted,
            model_name=model_name,
        )


class BoxOutsideImageError(PreprocessError):
    """A digit's box reaches past the picture it was said to be in."""

    code = "invalid_request"


def number_feedback_create(*, image_bytes: bytes, digits: list[dict], model_name: str = "") -> NumberFeedback:
    """Store one confirmed or corrected number: the drawing and each digit's box, label and guess.
    Raises PreprocessError for a picture that is not an image or a box that leaves it."""
    image = decode_image(image_bytes)
    width, height = image.size
    for index, item in enumerate(digits):
        x, y, w, h = item["box"]
        if x + w > width or y + h > height:
            raise BoxOutsideImageError(f"The box of digit {index + 1} reaches past the {width}x{height} picture.")
    image_png = drawing_png(image_bytes, decoded=image)
    with transaction.atomic():
        return NumberFeedback.objects.create(image_png=image_png, digits=digits, model_name=model_name)


def drawing_png(image_bytes: bytes, *, decoded: Image.Image | None = None) -> bytes:
    """The drawing as sent, as PNG: PNG uploads are kept byte for byte, other formats are converted
    (from `decoded` when the caller has decoded them already)."""
    if image_bytes.startswith(PNG_SIGNATURE):
        return image_bytes
    return _encode_png(decoded if decoded is not None else decode_image(image_bytes))


def input_png(model_input: np.ndarray) -> bytes:
    """A 28x28 greyscale PNG of the model input (white ink on black), for requests that sent pixels."""
    grey = np.clip(np.rint(np.asarray(model_input, dtype=np.float32) * 255), 0, 255).astype(np.uint8)
    return _encode_png(Image.fromarray(grey.reshape(IMAGE_SIZE, IMAGE_SIZE), mode="L"))


def _encode_png(image: Image.Image) -> bytes:
    if image.mode not in {"1", "L", "LA", "RGB", "RGBA", "P", "I", "I;16"}:
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
