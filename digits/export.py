"""Export every Keras model of the manifest to `.tflite` beside its `.h5`, recorded in the same
entry with its own sha256, so the API serves it with LiteRT and never imports TensorFlow.

    python -m digits.export --models-dir models [--models cnn,cnn_mcd]

Run by `make models` after training; it works on any models folder, so an `.h5` retrained or
dropped in later is exported the same way. Each export is checked against TensorFlow running the
same function on a probe batch before it is recorded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from digits.config import IMAGE_SIZE, MODELS_DIR
from digits.manifest import read_manifest, read_verified_model, sha256_file, update_entry

PROBE_TOLERANCE = 1e-4  # largest probability difference allowed between the export and TensorFlow
MC_PROBE_TOLERANCE = 0.25  # Monte-Carlo means are random on both sides: catches a broken export, not noise


class ExportError(Exception):
    """The export does not answer as the Keras model does."""


def export_entry(models_dir: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """Write `<stem>.tflite` for a Keras entry; its manifest record `{"file", "sha256"}`."""
    from digits.engines.litert import LiteRTRuntime
    from digits.engines.tensorflow import TensorFlowRuntime, load_keras_bytes, tflite_flatbuffer

    path, data = read_verified_model(models_dir, entry)
    model = load_keras_bytes(data)
    flatbuffer = tflite_flatbuffer(model)
    probe = np.random.default_rng(0).random((8, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    exported = LiteRTRuntime(str(entry["name"]), flatbuffer).predict(probe).probabilities
    reference = TensorFlowRuntime(str(entry["name"]), model).predict(probe).probabilities
    difference = float(np.abs(exported - reference).max())
    tolerance = MC_PROBE_TOLERANCE if entry.get("uncertainty") else PROBE_TOLERANCE
    if exported.shape != reference.shape or not difference <= tolerance:
        raise ExportError(f"{path.name}: the export differs from TensorFlow by {difference:.2g} (> {tolerance:g})")
    target = path.with_suffix(".tflite")
    target.write_bytes(flatbuffer)
    return {"file": target.name, "sha256": sha256_file(target)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m digits.export", description=__doc__.split("\n")[0])
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--models", help="comma-separated names (default: every Keras model)")
    args = parser.parse_args(argv)
    wanted = set(args.models.split(",")) if args.models else None
    entries = [
        entry
        for entry in read_manifest(args.models_dir)["models"]
        if str(entry["file"]).endswith(".h5") and (wanted is None or entry["name"] in wanted)
    ]
    for entry in entries:
        record = export_entry(args.models_dir, entry)
        if not update_entry(args.models_dir, str(entry["name"]), {"tflite": record}, sha256=str(entry["sha256"])):
            print(f"[{entry['name']}] the .h5 changed while exporting; run again", file=sys.stderr)
            return 1
        print(f"[{entry['name']}] {record['file']} sha256 {record['sha256'][:12]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
