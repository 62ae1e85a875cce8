"""Feature transforms for the scikit-learn models, as importable functions so pickles stay small."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from digits.config import IMAGE_SIZE


def deskew(images: np.ndarray) -> np.ndarray:
    """Undo the slant of each digit with a shear from its second moments (LeCun's deskewing),
    which makes distance-based models far less sensitive to handwriting style. Returns (n, 784)."""
    stack = np.asarray(images, dtype=np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    out = np.empty_like(stack)
    grid = np.arange(IMAGE_SIZE, dtype=np.float64)
    for index, image in enumerate(stack):
        total = float(image.sum())
        if total <= 0.0:
            out[index] = image
            continue
        mean_y = float(image.sum(axis=1) @ grid) / total
        mean_x = float(image.sum(axis=0) @ grid) / total
        var_y = float(image.sum(axis=1) @ (grid - mean_y) ** 2) / total
        cov = float(((grid - mean_y)[:, None] * (grid - mean_x)[None, :] * image).sum()) / total
        alpha = cov / var_y if var_y > 0 else 0.0
        centre = IMAGE_SIZE / 2.0 - 0.5
        offset = np.array([mean_y, mean_x]) - np.array([[1.0, 0.0], [alpha, 1.0]]) @ np.array([centre, centre])
        out[index] = ndimage.affine_transform(image, [[1.0, 0.0], [alpha, 1.0]], offset=offset, order=1)
    return out.reshape(len(stack), IMAGE_SIZE * IMAGE_SIZE)
