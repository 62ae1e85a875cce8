"""`models/manifest.json`: what each artifact is, where it came from, how well it measured.

The sha256 recorded here is the gate in front of every load: pickle is code execution, so a file
that does not match is never opened.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from digits.config import MANIFEST_DEFAULT_MODEL

MANIFEST_NAME = "manifest.json"


class ManifestError(Exception):
    """The manifest is missing, unreadable, or does not describe a model as required."""


class IntegrityError(Exception):
    """A model file's sha256 differs from the manifest, or the file is not in the models folder."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(models_dir: Path) -> dict[str, Any]:
    """Read and minimally validate the manifest (a `default` name and a list of `models`)."""
    path = models_dir / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise ManifestError(f"{path}: missing") from error
    except (OSError, json.JSONDecodeError) as error:
        raise ManifestError(f"{path}: unreadable ({error})") from error
    models = manifest.get("models") if isinstance(manifest, dict) else None
    if not isinstance(models, list) or not all(isinstance(m, dict) and "name" in m and "file" in m for m in models):
        raise ManifestError(f"{path}: expected {{'default': ..., 'models': [{{'name', 'file', ...}}]}}")
    manifest.setdefault("default", MANIFEST_DEFAULT_MODEL)
    return manifest


def write_manifest(models_dir: Path, manifest: dict[str, Any]) -> None:
    """Write atomically, so a server re-reading the manifest never sees half a file."""
    models_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(manifest, indent=2, sort_keys=False) + "\n"
    with tempfile.NamedTemporaryFile("w", dir=models_dir, delete=False, suffix=".tmp") as handle:
        handle.write(text)
    os.chmod(handle.name, 0o644)  # temporary files are private; the manifest is read by the servers
    os.replace(handle.name, models_dir / MANIFEST_NAME)


def upsert_entry(models_dir: Path, entry: dict[str, Any], *, default: str = MANIFEST_DEFAULT_MODEL) -> None:
    """Add or replace one model's entry, keeping the others and the manifest's order."""
    try:
        manifest = read_manifest(models_dir)
    except ManifestError:
        manifest = {"default": default, "models": []}
    models = [m for m in manifest["models"] if m["name"] != entry["name"]]
    models.append(entry)
    order = {name: i for i, name in enumerate(m["name"] for m in manifest["models"])}
    models.sort(key=lambda m: order.get(m["name"], len(order)))
    write_manifest(models_dir, {"default": manifest.get("default", default), "models": models})


def update_entry(models_dir: Path, name: str, changes: dict[str, Any], *, sha256: str) -> bool:
    """Merge `changes` into the entry of `name` as it stands now, if it still describes the file that
    was measured (`sha256`); False, writing nothing, when that file was replaced meanwhile."""
    current = next((m for m in read_manifest(models_dir)["models"] if m["name"] == name), None)
    if current is None or current.get("sha256") != sha256:
        return False
    upsert_entry(models_dir, {**current, **changes})
    return True


def read_verified_model(models_dir: Path, entry: dict[str, Any]) -> tuple[Path, bytes]:
    """Read the entry's file from inside `models_dir` and check its sha256 against the manifest.

    The bytes that were hashed are the bytes returned, so nothing can swap the file between the
    check and the load.
    """
    root = models_dir.resolve()
    path = (root / str(entry["file"])).resolve()
    if path.parent != root:
        raise IntegrityError(f"{entry['file']}: model files must lie directly in {root}")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise IntegrityError(f"{path}: cannot read ({error.strerror or error})") from error
    actual = hashlib.sha256(data).hexdigest()
    if actual != entry.get("sha256"):
        raise IntegrityError(f"{path}: sha256 {actual} does not match the manifest's {entry.get('sha256')}")
    return path, data
