"""What the API builds from one manifest entry, once: the runtime, its not-a-digit rule and its
detector of touching digits. The one place that knows how each is made from the entry."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digits.runtime import Runtime, load_runtime
from digits.segment import TouchingDetector
from digits.touching import MANIFEST_KEY as TOUCHING_WEIGHTS
from digits.touching import touching_detector

logger = logging.getLogger(__name__)

# The entry's keys a bundle is built from: a manifest change to any of them rebuilds the bundle;
# other changes (metrics, display name) keep the loaded one.
BUNDLE_KEYS = ("file", "sha256", "tflite", "not_a_digit", TOUCHING_WEIGHTS)


@dataclass(frozen=True)
class ModelBundle:
    runtime: Runtime
    not_a_digit_rule: dict[str, Any] | None  # the entry's `not_a_digit` (digits.novelty)
    touching: TouchingDetector | None


def build_bundle(models_dir: Path, entry: dict[str, Any]) -> ModelBundle:
    """Load the entry's model (sha256-checked) and decode its detectors; a malformed detector of
    touching digits is logged and left out (numbers are then read without it)."""
    runtime = load_runtime(models_dir, entry)
    try:
        touching = touching_detector(entry)
    except ValueError as error:
        logger.error("model %s: detector of touching digits ignored: %s", entry["name"], error)
        touching = None
    return ModelBundle(runtime, entry.get("not_a_digit"), touching)


def artifact_paths(models_dir: Path, entry: dict[str, Any]) -> list[Path]:
    """The files a bundle is loaded from: the entry's file and, for a Keras model, its export."""
    export = entry.get("tflite")
    names = [entry["file"], *([export["file"]] if isinstance(export, dict) and "file" in export else [])]
    return [models_dir / str(name) for name in names]


def same_bundle(entry: dict[str, Any], other: dict[str, Any]) -> bool:
    return all(entry.get(key) == other.get(key) for key in BUNDLE_KEYS)
