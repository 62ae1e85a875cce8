"""Negative drawings: things people draw that are no digit, in independent families, each in its
own module. Every family draws PNG canvases (`draw(rng) -> bytes`), so its drawings reach a model
through `digits.preprocess` exactly as an upload does; the same seed gives the same drawings.

    hershey  letters and symbols of the single-stroke Hershey fonts    (digits.negatives.hershey)
    doodles  spirals, zigzags, stars, ticks, boxes, faces, arrows, ...  (digits.negatives.doodles)
    broken   MNIST training digits overlapped, crossed out, cut up     (digits.negatives.broken)
    blanks   empty canvases with grain, specks and smudges             (digits.negatives.blanks)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from digits.negatives import blanks, broken, doodles, hershey
from digits.preprocess import PreprocessError, normalize_digit_image

Draw = Callable[[np.random.Generator], bytes]
FAMILY_NAMES = ("hershey", "doodles", "broken", "blanks")


def families(train_digits: np.ndarray, train_labels: np.ndarray) -> dict[str, Draw]:
    """Each family's `draw`; `broken` damages the given (MNIST training, never test) digits."""
    return {
        "hershey": hershey.draw,
        "doodles": doodles.draw,
        "broken": broken.drawer(train_digits, train_labels),
        "blanks": blanks.draw,
    }


def negative_inputs(draw: Draw, count: int, *, seed: int) -> np.ndarray:
    """`count` drawings of one family through the shared preprocessing: float32 (n, 28, 28).
    Drawings the preprocessing refuses (a blank with too little ink) never reach a model, so they
    are replaced by further drawings of the same seed's sequence."""
    rng = np.random.default_rng(seed)
    inputs: list[np.ndarray] = []
    while len(inputs) < count:
        try:
            inputs.append(normalize_digit_image(draw(rng)))
        except PreprocessError:
            continue
    return np.stack(inputs).astype(np.float32)
