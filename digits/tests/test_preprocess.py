import io
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from digits.preprocess import (
    EmptyImageError,
    ImageTooLargeError,
    InvalidImageError,
    InvalidPixelsError,
    _flattened,
    normalize_digit_image,
    pixels_to_input,
)

# derandomize: the same examples on every machine and run, so CI never meets a case no one has seen.
PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def draw_on_canvas(
    digit: np.ndarray, *, size: int, height: int, top: int, left: int, dark_on_light: bool
) -> np.ndarray:
    """Scale a 28x28 MNIST digit's ink to `height` pixels and place it on a canvas, as a person would draw."""
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    ink = digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32) / 255
    width = max(1, round(ink.shape[1] * height / ink.shape[0]))
    if left + width > size:  # a wide digit: fit it to the canvas instead
        width = size - left
        height = max(1, round(ink.shape[0] * width / ink.shape[1]))
    scaled = np.asarray(Image.fromarray(ink, mode="F").resize((width, height), Image.Resampling.BILINEAR))
    canvas = np.zeros((size, size), dtype=np.float32)
    canvas[top : top + height, left : left + width] = np.clip(scaled, 0, 1)
    pixels = 1.0 - canvas if dark_on_light else canvas
    return np.round(pixels * 255).astype(np.uint8)


def png_bytes(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, **options)
    return buffer.getvalue()


def mean_abs_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


def aligned_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference after the best shift of at most one pixel: centring by mass rounds
    to whole pixels, so a sub-pixel change in the drawing may move the result by one."""
    return min(mean_abs_difference(np.roll(a, (dy, dx), axis=(0, 1)), b) for dy in (-1, 0, 1) for dx in (-1, 0, 1))


def test_mnist_digit_goes_through_nearly_unchanged(mnist):
    differences = [mean_abs_difference(normalize_digit_image(d), d / 255.0) for d in mnist.x_test[:500]]
    assert np.median(differences) < 0.005
    assert np.mean(differences) < 0.01


def test_output_is_mnist_style(mnist):
    out = normalize_digit_image(mnist.x_test[0])
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() == pytest.approx(1.0)
    rows, cols = np.flatnonzero(out.any(axis=1)), np.flatnonzero(out.any(axis=0))
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 21


@PROPERTY_SETTINGS
@given(
    index=st.integers(0, 999),
    height=st.integers(60, 250),
    fraction_top=st.floats(0, 1),
    fraction_left=st.floats(0, 1),
    dark_on_light=st.booleans(),
)
def test_same_digit_anywhere_any_size_either_polarity_gives_nearly_the_same_input(
    mnist, index, height, fraction_top, fraction_left, dark_on_light
):
    digit = mnist.x_test[index]
    reference = normalize_digit_image(draw_on_canvas(digit, size=280, height=100, top=90, left=90, dark_on_light=False))
    aspect = (np.ptp(np.flatnonzero(digit.any(axis=0))) + 1) / (np.ptp(np.flatnonzero(digit.any(axis=1))) + 1)
    height = min(height, int(270 / aspect))
    width = round(height * aspect)
    top = int(fraction_top * (280 - height))
    left = int(fraction_left * max(0, 280 - width - 2))
    moved = normalize_digit_image(
        draw_on_canvas(digit, size=280, height=height, top=top, left=left, dark_on_light=dark_on_light)
    )
    # Arrays of 224 px and more are averaged down as uploaded pictures are (one preprocessing path),
    # so a digit drawn under 100 px tall here is cropped at half resolution: allow for that detail.
    assert aligned_difference(moved, reference) < 0.05


@PROPERTY_SETTINGS
@given(index=st.integers(0, 999), background=st.floats(0.55, 0.95), seed=st.integers(0, 1000))
def test_grey_noisy_paper_gives_nearly_the_clean_input(mnist, index, background, seed):
    clean = draw_on_canvas(mnist.x_test[index], size=200, height=120, top=40, left=50, dark_on_light=True)
    noise = np.random.default_rng(seed).normal(0, 0.03, clean.shape)
    paper = np.clip(clean / 255.0 * background + noise, 0, 1)
    noisy = normalize_digit_image((paper * 255).astype(np.uint8))
    assert aligned_difference(noisy, normalize_digit_image(clean)) < 0.06  # noise removal shaves faint edges


@pytest.mark.parametrize("size", [8, 16])
def test_tiny_low_resolution_scans_are_scaled_up(mnist, size):
    small = np.asarray(Image.fromarray(mnist.x_test[0]).resize((size, size), Image.Resampling.BOX))
    out = normalize_digit_image(small)
    assert out.shape == (28, 28) and out.max() == pytest.approx(1.0)
    assert mean_abs_difference(out, normalize_digit_image(mnist.x_test[0])) < 0.15


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP"])
def test_accepted_formats_decode_to_the_same_digit(mnist, fmt):
    canvas = draw_on_canvas(mnist.x_test[3], size=140, height=90, top=20, left=30, dark_on_light=True)
    data = png_bytes(Image.fromarray(canvas).convert("RGB"), format=fmt, quality=95)
    assert mean_abs_difference(normalize_digit_image(data), normalize_digit_image(canvas)) < 0.03


def test_transparent_png_is_composited_on_white(mnist):
    ink = draw_on_canvas(mnist.x_test[7], size=140, height=90, top=20, left=30, dark_on_light=False)
    rgba = np.zeros((140, 140, 4), dtype=np.uint8)
    rgba[..., 3] = ink  # black pen, alpha = ink, transparent elsewhere
    data = png_bytes(Image.fromarray(rgba, mode="RGBA"), format="PNG")
    on_white = draw_on_canvas(mnist.x_test[7], size=140, height=90, top=20, left=30, dark_on_light=True)
    assert mean_abs_difference(normalize_digit_image(data), normalize_digit_image(on_white)) < 0.02


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
@given(pixels=st.binary(min_size=48 * 48 * 4, max_size=48 * 48 * 4), opaque=st.booleans())
@PROPERTY_SETTINGS
def test_opaque_pictures_skip_compositing_yet_give_the_same_grey(mode, pixels, opaque):
    """A browser canvas is an opaque RGBA PNG: its shortcut must read exactly like laying it on paper."""
    bands = np.frombuffer(pixels, dtype=np.uint8).reshape(48, 48, 4)[..., : len(mode)].copy()
    if opaque:
        bands[..., -1] = 255
    image = Image.fromarray(bands, mode=mode)
    on_paper = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image.convert("RGBA")).convert("L")
    assert np.array_equal(np.asarray(_flattened(image)), np.asarray(on_paper))


@pytest.mark.parametrize("value", [0, 255, 128])
def test_blank_image_raises_a_dedicated_error(value):
    with pytest.raises(EmptyImageError):
        normalize_digit_image(np.full((280, 280), value, dtype=np.uint8))


def test_gif_and_garbage_are_invalid_images():
    gif = png_bytes(Image.new("L", (10, 10)), format="GIF")
    with pytest.raises(InvalidImageError, match="GIF"):
        normalize_digit_image(gif)
    with pytest.raises(InvalidImageError):
        normalize_digit_image(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>")


def test_truncated_png_is_an_invalid_image(mnist):
    data = png_bytes(Image.fromarray(mnist.x_test[0]).resize((280, 280)), format="PNG")
    with pytest.raises(InvalidImageError):
        normalize_digit_image(data[: len(data) // 2])


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size but carries almost no data: what a decompression bomb looks like."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(("width", "height"), [(30000, 30000), (6000, 5000)])
def test_huge_image_is_refused_before_its_pixels_are_decoded(width, height):
    with pytest.raises(ImageTooLargeError, match="megapixels"):
        normalize_digit_image(png_header_only(width, height))


@pytest.mark.parametrize("pixels", [np.zeros((28, 28)).tolist(), np.zeros(784).tolist()])
def test_pixels_accept_nested_or_flat(pixels):
    pixels[100 if isinstance(pixels[0], float) else 3] = 255 if isinstance(pixels[0], float) else [255.0] * 28
    out = pixels_to_input(pixels)
    assert out.shape == (28, 28) and out.dtype == np.float32 and out.max() == 1.0


@pytest.mark.parametrize(
    "pixels",
    [
        [[0.0] * 28] * 27,
        [0.0] * 783,
        [float("nan")] * 784,
        [float("inf")] * 784,
        [-1.0] * 784,
        [300.0] * 784,
        ["a"] * 784,
        "not a list",
        [[0.0] * 28] * 27 + [[0.0] * 27],
    ],
)
def test_bad_pixels_are_refused(pixels):
    with pytest.raises(InvalidPixelsError):
        pixels_to_input(pixels)
