"""The process-wide model registry: one instance, each model loaded lazily and exactly once.

The manifest is re-read whenever its mtime or size changes, so a model added to `models/` (file
plus manifest entry) appears without a restart; an unreadable manifest leaves the last good one
in force. A model that fails to load (missing file,
corrupt file, sha256 mismatch) is reported and refused with 503 while every other model serves;
it is retried only when its file changes, so a broken file is not re-hashed on every request.
"""

from __future__ import annotations

import gc
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digits.manifest import MANIFEST_NAME, ManifestError, read_manifest
from digits.native_logs import native_chatter_filtered
from digits.runtime import Runtime, load_runtime
from digits.segment import TouchingDetector
from digits.touching import MANIFEST_KEY as TOUCHING_WEIGHTS
from digits.touching import touching_detector
from predictions.errors import ModelUnavailableError, UnknownModelError

logger = logging.getLogger(__name__)

FileStamp = tuple[int, int, int] | None  # (inode, mtime_ns, size), None when the file is absent


def file_stamp(path: Path) -> FileStamp:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


@dataclass
class ModelSlot:
    """One manifest entry and, once loaded, its runtime; the lock makes concurrent first calls load once."""

    entry: dict[str, Any]
    path: Path
    lock: threading.Lock = field(default_factory=threading.Lock)
    runtime: Runtime | None = None
    error: str | None = None
    failed_stamp: FileStamp = None
    _touching: tuple[Any, TouchingDetector | None] = (None, None)  # (stored weights, detector built from them)

    @property
    def name(self) -> str:
        return str(self.entry["name"])

    def touching_detector(self) -> TouchingDetector | None:
        """The entry's detector of touching digits (`digits.touching`), decoded once per stored weights.
        Malformed weights are logged and ignored: numbers are then read as without a detector."""
        decoded, detector = self._touching
        stored = self.entry.get(TOUCHING_WEIGHTS)
        if stored is decoded:
            return detector
        try:
            detector = touching_detector(self.entry)
        except ValueError as error:
            logger.error("model %s: detector of touching digits ignored: %s", self.name, error)
            detector = None
        self._touching = (stored, detector)  # two threads racing here build the same detector
        return detector

    def same_artifact(self, entry: dict[str, Any]) -> bool:
        return entry.get("file") == self.entry.get("file") and entry.get("sha256") == self.entry.get("sha256")


class ModelRegistry:
    """Models named by `models_dir/manifest.json`, loaded on first use under a per-model lock."""

    def __init__(self, models_dir: Path, default_model: str | None = None) -> None:
        self.models_dir = Path(models_dir)
        self._preferred_default = default_model
        self._lock = threading.Lock()  # guards the manifest snapshot below, never held while loading
        self._manifest_stamp: FileStamp = None
        self._manifest_read = False
        self._slots: dict[str, ModelSlot] = {}
        self._manifest_default: str | None = None
        self._manifest_error: str | None = None
        self._preloading = False

    # The manifest -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the manifest if it changed; one `stat` per call otherwise."""
        stamp = file_stamp(self.models_dir / MANIFEST_NAME)
        if self._manifest_read and stamp == self._manifest_stamp:
            return
        with self._lock:
            if self._manifest_read and stamp == self._manifest_stamp:
                return
            try:
                manifest = read_manifest(self.models_dir)
            except ManifestError as error:  # keep serving what the last good manifest listed
                logger.error("model manifest unusable, keeping the last good one: %s", error)
                self._manifest_error = str(error)
                self._manifest_stamp, self._manifest_read = stamp, True
                return
            self._manifest_error = None
            slots: dict[str, ModelSlot] = {}
            for entry in manifest["models"]:
                name = str(entry["name"])
                old = self._slots.get(name)
                if old is not None and old.same_artifact(entry):
                    old.entry = entry
                    slots[name] = old
                else:
                    slots[name] = ModelSlot(entry=entry, path=self.models_dir / str(entry["file"]))
            self._slots = slots
            self._manifest_default = manifest.get("default")
            self._manifest_stamp, self._manifest_read = stamp, True
            logger.info("model manifest read: %s", ", ".join(slots) or "no models")

    @property
    def manifest_error(self) -> str | None:
        self.refresh()
        return self._manifest_error

    @property
    def default_name(self) -> str | None:
        """The configured default (env `DEFAULT_MODEL`, else the manifest's), or the first model listed
        when that one is not in the manifest, so a partial models folder still serves."""
        self.refresh()
        slots = self._slots
        for candidate in (self._preferred_default, self._manifest_default):
            if candidate and candidate in slots:
                return candidate
        return next(iter(slots), None)

    def names(self) -> list[str]:
        self.refresh()
        return list(self._slots)

    def slot(self, name: object) -> ModelSlot:
        """The slot of a model by name; anything that is not a listed name is unknown (404)."""
        self.refresh()
        slot = self._slots.get(name) if isinstance(name, str) else None
        if slot is None:
            raise UnknownModelError(f"Unknown model {str(name)[:100]!r}; GET /list names the models served.")
        return slot

    # Loading ----------------------------------------------------------------------------------

    def get(self, name: object = None) -> Runtime:
        """The loaded runtime of `name` (None means the default), loading it on first use."""
        if name is None:
            name = self.default_name
            if name is None:
                raise ModelUnavailableError("No model is installed: the manifest lists none.")
        slot = self.slot(name)
        runtime = slot.runtime
        if runtime is not None:
            return runtime
        with slot.lock:
            if slot.runtime is None:
                self._load(slot)
            if slot.runtime is None:
                raise ModelUnavailableError(f"Model {slot.name!r} is unavailable: {slot.error}")
            return slot.runtime

    def _load(self, slot: ModelSlot) -> None:
        stamp = file_stamp(slot.path)
        if slot.error is not None and stamp == slot.failed_stamp:
            return  # still the same broken file: do not hash it again
        try:
            with native_chatter_filtered():  # TensorFlow's C++ start-up lines
                slot.runtime = load_runtime(self.models_dir, slot.entry)
        except Exception as error:  # any failure takes only this model out of service
            slot.error, slot.failed_stamp = f"{type(error).__name__}: {error}", stamp
            logger.error("model %s failed to load: %s", slot.name, slot.error)
        else:
            slot.error = None
            logger.info("model %s loaded from %s", slot.name, slot.path.name)
            settle_heap()

    def is_loaded(self, name: str) -> bool:
        return self.slot(name).runtime is not None

    def default_loaded(self) -> bool:
        name = self.default_name
        return name is not None and self.is_loaded(name)

    def load_default(self) -> None:
        """Load the default model now (start-up); failures are recorded, never raised."""
        try:
            self.get(None)
        except (ModelUnavailableError, UnknownModelError) as error:
            logger.error("default model not loaded at start-up: %s", error.message)

    def preload_default_in_background(self) -> None:
        """Load the default model in a thread (one at a time), so /health answers while it loads."""
        with self._lock:
            if self._preloading:
                return
            self._preloading = True
        threading.Thread(target=self._preload, name="model-preload", daemon=True).start()

    def _preload(self) -> None:
        try:
            self.load_default()
        finally:
            with self._lock:
                self._preloading = False


def settle_heap() -> None:
    """Take what is alive now out of the garbage collector's reach (`gc.freeze`). TensorFlow and
    Django leave hundreds of thousands of long-lived objects, and an occasional full collection
    walking them all holds the GIL in the middle of a request (the benchmark's rare slow p99; figures
    in docs/benchmarks.md). The price: cyclic garbage of a model later replaced by a hot reload is never collected."""
    gc.collect()
    gc.freeze()


_registry: ModelRegistry | None = None
_registry_lock = threading.Lock()


def get_registry() -> ModelRegistry:
    """The one registry of this process, built from settings on first use."""
    global _registry
    registry = _registry
    if registry is not None:
        return registry
    with _registry_lock:
        if _registry is None:
            from django.conf import settings

            _registry = ModelRegistry(Path(settings.MODELS_DIR), settings.DEFAULT_MODEL or None)
        return _registry


def reset_registry() -> None:
    """Forget the registry (tests that point MODELS_DIR elsewhere; settings changes)."""
    global _registry
    with _registry_lock:
        _registry = None
