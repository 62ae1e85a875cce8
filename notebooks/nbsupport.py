"""Plumbing the three notebooks share: find the project, read quick mode, load the zoo, draw digits.

The `digits` library is imported as installed (`pip install -e .`, done by `make install`).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from digits.config import MODELS_DIR
from digits.manifest import ManifestError, read_manifest
from digits.runtime import Runtime, load_runtime

QUICK = os.environ.get("DIGITS_QUICK", "").strip().lower() not in ("", "0", "false", "no")
"""`DIGITS_QUICK=1` shrinks data and epochs so each notebook runs in seconds under `make test`."""

plt.rcParams.update({"figure.dpi": 80, "savefig.dpi": 80, "image.cmap": "gray", "axes.titlesize": "medium"})


def sized(full: int, quick: int) -> int:
    """The full-run size of something, or its quick-mode size."""
    return quick if QUICK else full


@dataclass(frozen=True)
class LoadedModel:
    """A runtime with the manifest entry it was loaded from and the folder holding its file."""

    runtime: Runtime
    entry: dict[str, Any]
    models_dir: Path

    @property
    def size_bytes(self) -> int:
        return (self.models_dir / self.entry["file"]).stat().st_size


def load_models(names: list[str], models_dir: Path = MODELS_DIR) -> dict[str, LoadedModel]:
    """Load the committed models (sha256-checked, as the server does).

    In quick mode a model missing from the committed manifest is trained tiny into a temporary
    folder instead, so the notebooks run on a clone whose zoo is still training; a full run refuses.
    """
    entries = _manifest_entries(models_dir)
    missing = [name for name in names if name not in entries or not (models_dir / entries[name]["file"]).is_file()]
    if missing and not QUICK:
        raise RuntimeError(f"not in {models_dir}: {', '.join(missing)}; run `make models` first")
    sources = {name: (models_dir, entries[name]) for name in names if name not in missing}
    if missing:
        tiny_dir = _train_tiny(missing)
        tiny_entries = _manifest_entries(tiny_dir)
        print(f"quick mode: {', '.join(missing)} not committed yet, using tiny ones trained in {tiny_dir}")
        sources.update({name: (tiny_dir, tiny_entries[name]) for name in missing})
    return {name: LoadedModel(load_runtime(*sources[name]), sources[name][1], sources[name][0]) for name in names}


def _manifest_entries(models_dir: Path) -> dict[str, dict[str, Any]]:
    try:
        return {entry["name"]: entry for entry in read_manifest(models_dir)["models"]}
    except ManifestError:
        return {}


def _train_tiny(names: list[str]) -> Path:
    from digits.train import main as train

    out = Path(tempfile.mkdtemp(prefix="digits-notebook-models-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)  # the kernel exits when the notebook ends
    args = ["--models", ",".join(names), "--out", str(out), "--limit", "500", "--epochs", "1"]
    train([*args, "--batch-size", "16", "--test-limit", "500", "--canvas-count", "100", "--quiet"])
    return out


def show_digits(
    images: np.ndarray, titles: list[str] | None = None, *, ncols: int = 10, scale: float = 1.1, suptitle: str = ""
) -> plt.Figure:
    """A grid of 28x28 digits (or any greyscale images), each with an optional title."""
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * scale, nrows * scale * (1.25 if titles else 1.0)))
    for index, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if index < len(images):
            ax.imshow(images[index], cmap="gray", interpolation="nearest")
            if titles:
                ax.set_title(titles[index], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_confusion(ax: plt.Axes, y_true: np.ndarray, y_pred: np.ndarray, title: str) -> None:
    """Confusion matrix with counts; the diagonal is greyed so the errors stand out."""
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(y_true, y_pred, labels=range(10))
    errors = np.where(matrix > 0, matrix, np.nan)
    np.fill_diagonal(errors, np.nan)
    worst = max(1.0, float(np.nan_to_num(errors).max()))
    ax.imshow(np.eye(10), cmap="Greys", vmin=0, vmax=4)
    ax.imshow(errors, cmap="Reds", vmin=0, vmax=worst)
    for (row, col), count in np.ndenumerate(matrix):
        if count:
            dark = row != col and count > 0.6 * worst
            ax.text(col, row, str(count), ha="center", va="center", fontsize=8, color="white" if dark else "black")
    accuracy = np.trace(matrix) / max(1, matrix.sum())
    ax.set(
        xticks=range(10),
        yticks=range(10),
        xlabel="predicted",
        ylabel="true",
        title=f"{title}: {accuracy:.2%} of {matrix.sum()}",
    )
