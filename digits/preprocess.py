"""The one preprocessing path: any picture of one digit -> the 28x28 input MNIST models expect.

MNIST digits were cropped to their ink, scaled so the longest side fits 20 px (anti-aliased,
aspect kept) and placed so their centre of mass sits at the centre of a 28x28 field, white ink on
black. Training evaluation, the API and the notebooks all call `normalize_digit_image`, so a
drawing is seen the same way everywhere.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError
from scipy import ndimage

from digits.config import DIGIT_BOX, IMAGE_SIZE, MAX_IMAGE_PIXELS

ImageInput = bytes | Image.Image | np.ndarray

ALLOWED_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "BMP"})
MIN_CONTRAST = 0.08  # ink weaker than this against the background is taken for a blank image
INK_MASK_LEVEL = 0.1  # ink level (0..1) that counts as part of the digit when cropping
SPECK_INK_SHARE = 0.02  # blobs holding less than this share of the total ink are noise
CENTRE_OF_MASS = 14.0  # where MNIST put the centre of mass, in pixel-index coordinates
OPAQUE = 255  # alpha of a fully opaque pixel
WORKING_SIDE = 112  # pictures whose shorter side is 2x this or more are averaged down toward it


class PreprocessError(ValueError):
    """Base of the errors a caller can show to a person; `code` is the API's error code."""

    code = "invalid_image"


class InvalidImageError(PreprocessError):
    code = "invalid_image"


class EmptyImageError(PreprocessError):
    code = "empty_image"


class ImageTooLargeError(PreprocessError):
    code = "too_large"


class InvalidPixelsError(PreprocessError):
    code = "invalid_pixels"


def normalize_digit_image(image: ImageInput) -> np.ndarray:
    """Return the float32 (28, 28) MNIST-style input (white ink on black, 0..1) for one digit."""
    return normalize_ink(extract_ink(working_picture(image)[0]))


def decode_image(data: bytes) -> Image.Image:
    """Decode PNG, JPEG, WebP or BMP bytes, refusing huge images before their pixels are decoded."""
    limit = f"at most {MAX_IMAGE_PIXELS // 1_000_000} megapixels are accepted"
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        raise ImageTooLargeError(f"The image is far too large; {limit}.") from error
    except (UnidentifiedImageError, OSError) as error:
        raise InvalidImageError("The file is not a PNG, JPEG, WebP or BMP image.") from error
    if image.format not in ALLOWED_FORMATS:
        raise InvalidImageError(f"Unsupported image format {image.format}; send PNG, JPEG, WebP or BMP.")
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageTooLargeError(f"The image is {width}x{height} pixels; {limit}.")
    if width == 0 or height == 0:
        raise InvalidImageError("The image has no pixels.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise InvalidImageError(f"The image could not be decoded ({error}).") from error
    return image


def extract_ink(image: ImageInput) -> np.ndarray:
    """Return ink intensity (float32, 0 = background, 1 = strongest ink) whatever the polarity.

    Transparent pixels count as white paper. The background level is the median of the border,
    so grey paper and light-on-dark drawings work; noise at the background's level is removed.
    Decoded pictures are mapped through a 256-entry table: one pass over the pixels.
    """
    grey = _to_grey(image)
    scale = 255.0 if grey.dtype == np.uint8 else 1.0
    border = np.concatenate([grey[0], grey[-1], grey[1:-1, 0], grey[1:-1, -1]]).astype(np.float32) / scale
    background = float(np.median(border))
    dark_ink = background > 0.5
    noise = 3.0 * float(np.median(np.abs(border - background))) * 1.4826
    peak = (background - float(grey.min()) / scale) if dark_ink else (float(grey.max()) / scale - background)
    if peak - noise < MIN_CONTRAST:
        raise EmptyImageError("The image is blank: no digit was drawn.")

    def ink_of(levels: np.ndarray) -> np.ndarray:
        ink = (background - levels) if dark_ink else (levels - background)
        return np.clip((ink - noise) / (peak - noise), 0.0, 1.0, dtype=np.float32)

    if grey.dtype == np.uint8:
        return np.take(ink_of(np.arange(256, dtype=np.float32) / 255.0), grey)
    return ink_of(grey)


def normalize_ink(ink: np.ndarray) -> np.ndarray:
    """Crop ink to its bounding box, fit it in 20x20 keeping aspect, centre its mass in 28x28."""
    crop = _ink_box(ink)  # every blob lies inside the box, so specks are judged on the (smaller) crop
    cleaned = drop_specks(crop)
    if cleaned is not crop:
        crop = _ink_box(cleaned)
    height, width = crop.shape
    scale = DIGIT_BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    digit = np.asarray(Image.fromarray(crop, mode="F").resize(size, Image.Resampling.BILINEAR), dtype=np.float32)
    digit = np.clip(digit, 0.0, None)
    peak = float(digit.max())
    if peak <= 0.0:
        raise EmptyImageError("The image is blank: no digit was drawn.")
    digit /= peak
    return _place_by_centre_of_mass(digit)


def _ink_box(ink: np.ndarray) -> np.ndarray:
    """The part of `ink` inside the bounding box of its pixels above INK_MASK_LEVEL."""
    mask = ink > INK_MASK_LEVEL
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise EmptyImageError("The image is blank: no digit was drawn.")
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def drop_specks(ink: np.ndarray) -> np.ndarray:
    """Remove connected blobs holding under 2% of the ink: dust and noise that would otherwise
    stretch the bounding box, while the separate strokes of a real digit stay. Returns `ink`
    itself when it is one blob."""
    labels, count = ndimage.label(ink > INK_MASK_LEVEL, structure=np.ones((3, 3)))
    if count == 0:
        raise EmptyImageError("The image is blank: no digit was drawn.")
    if count == 1:
        return ink
    mass = ndimage.sum_labels(ink, labels, index=np.arange(1, count + 1))
    keep = np.concatenate([[False], mass >= SPECK_INK_SHARE * mass.sum()])
    return np.where(keep[labels], ink, 0.0).astype(np.float32)


def to_unit_range(pixels: np.ndarray) -> np.ndarray:
    """Scale MNIST-style pixels to float32 0..1: the one place 0..255 becomes 0..1."""
    array = np.asarray(pixels, dtype=np.float32)
    if array.size and float(array.max()) > 1.0:
        array = array / 255.0
    return array


def pixels_to_input(values: object) -> np.ndarray:
    """Validate pixels given as a 28x28 nested list or 784 numbers (0..1 or 0..255) and scale them."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidPixelsError("pixels must be numbers: a 28x28 nested list or a flat list of 784.") from error
    if array.shape not in ((IMAGE_SIZE, IMAGE_SIZE), (IMAGE_SIZE * IMAGE_SIZE,)):
        raise InvalidPixelsError(f"pixels must be 28x28 or 784 numbers, got shape {list(array.shape)}.")
    if not np.isfinite(array).all():
        raise InvalidPixelsError("pixels must be finite numbers (no NaN or Infinity).")
    if array.min() < 0 or array.max() > 255:
        raise InvalidPixelsError("pixels must lie in 0..1 or 0..255.")
    return to_unit_range(array.reshape(IMAGE_SIZE, IMAGE_SIZE))


def _to_grey(image: ImageInput) -> np.ndarray:
    if isinstance(image, (bytes, bytearray, memoryview)):
        image = decode_image(bytes(image))
    if isinstance(image, Image.Image):
        return _pil_to_grey(image)
    if isinstance(image, np.ndarray):
        return _array_to_grey(image)
    raise InvalidImageError(f"Expected image bytes, a PIL image or an array, got {type(image).__name__}.")


def _pil_to_grey(image: Image.Image) -> np.ndarray:
    return np.asarray(_flattened(image))


def _flattened(image: Image.Image) -> Image.Image:
    """The picture as 8-bit grey, transparent parts laid on white paper. A browser canvas painted
    white before drawing is opaque: checking its alpha (~60 µs for 280x280) spares laying it on
    paper (~500 µs), with the same grey."""
    if image.mode in ("RGBA", "LA") and image.getchannel("A").getextrema()[0] == OPAQUE:
        return image.convert("L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, rgba)
    return image if image.mode == "L" else image.convert("L")


def working_picture(image: ImageInput) -> tuple[ImageInput, int]:
    """The picture every reader works on, and the whole factor it was box-averaged down by (1 when
    it was not). Big pictures are averaged (in C) keeping the shorter side at least WORKING_SIDE px:
    every later step costs in proportion to the pixels, and a digit that fills the picture ends up
    20 px tall anyway. A digit drawn small in a large photo keeps less detail: crop such photos to
    the digit. `digits.segment` works on the same picture, so a lone digit gets the same input."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        image = decode_image(bytes(image))
    if isinstance(image, Image.Image):
        factor = min(image.size) // WORKING_SIDE
        return (_flattened(image).reduce(factor), factor) if factor >= 2 else (image, 1)
    if isinstance(image, np.ndarray) and image.ndim >= 2:
        factor = min(image.shape[:2]) // WORKING_SIDE
        if factor < 2:
            return image, 1
        if image.ndim == 2 and image.dtype == np.uint8:  # as a decoded grey picture is
            return Image.fromarray(image).reduce(factor), factor
        grey = _to_grey(image)
        picture = Image.fromarray(grey) if grey.dtype == np.uint8 else Image.fromarray(grey.astype(np.float32), "F")
        reduced = picture.reduce(factor)
        return (reduced if reduced.mode == "L" else np.asarray(reduced)), factor
    return image, 1


def _array_to_grey(array: np.ndarray) -> np.ndarray:
    if array.ndim == 3 and array.shape[2] in (3, 4):
        mode = "RGBA" if array.shape[2] == 4 else "RGB"
        return _pil_to_grey(Image.fromarray(np.ascontiguousarray(to_unit_range(array) * 255).astype(np.uint8), mode))
    if array.ndim != 2 or min(array.shape) == 0:
        raise InvalidImageError(f"Expected a 2-D grey or RGB(A) image array, got shape {list(array.shape)}.")
    if not np.isfinite(array).all():
        raise InvalidImageError("The image array holds NaN or infinite values.")
    return to_unit_range(array)


def _place_by_centre_of_mass(digit: np.ndarray) -> np.ndarray:
    height, width = digit.shape
    total = float(digit.sum())
    centre_y = float((digit.sum(axis=1) * np.arange(height)).sum()) / total
    centre_x = float((digit.sum(axis=0) * np.arange(width)).sum()) / total
    top = int(np.clip(round(CENTRE_OF_MASS - centre_y), 0, IMAGE_SIZE - height))
    left = int(np.clip(round(CENTRE_OF_MASS - centre_x), 0, IMAGE_SIZE - width))
    field = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    field[top : top + height, left : left + width] = digit
    return field
