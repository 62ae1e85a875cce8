"""The process-wide model registry: each manifest entry's bundle (`predictions.bundles`) built
lazily, exactly once, under that model's lock.

The manifest comes from `ManifestRepository`, so a model added to `models/` (file plus manifest
entry) appears without a restart. A model that fails to load (missing file, corrupt file, sha256
mismatch, no `.tflite` export) is refused with 503 while every other model serves; it is retried
only when its file changes, so a broken file is not re-hashed on every request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digits.heap import release_free_heap
from digits.native_logs import native_chatter_filtered
from digits.runtime import Runtime
from predictions import metrics
from predictions.bundles import ModelBundle, artifact_paths, build_bundle, same_bundle
from predictions.errors import ModelUnavailableError, UnknownModelError
from predictions.repository import FileStamp, ManifestRepository, ManifestSnapshot, file_stamp

logger = logging.getLogger(__name__)


@dataclass
class ModelSlot:
    """One manifest entry and, once built, its bundle; the lock makes concurrent first calls build once."""

    entry: dict[str, Any]
    path: Path
    lock: threading.Lock = field(default_factory=threading.Lock)
    bundle: ModelBundle | None = None
    error: str | None = None
    failed_stamps: list[FileStamp] | None = None

    @property
    def name(self) -> str:
        return str(self.entry["name"])

    @property
    def loaded(self) -> bool:
        return self.bundle is not None


class ModelRegistry:
    """Models named by `models_dir/manifest.json`, each built on first use."""

    def __init__(self, models_dir: Path, default_model: str | None = None) -> None:
        self.models_dir = Path(models_dir)
        self.repository = ManifestRepository(self.models_dir)
        self._preferred_default = default_model
        self._lock = threading.Lock()  # guards the slots below, never held while loading
        self._seen: ManifestSnapshot | None = None
        self._slots: dict[str, ModelSlot] = {}
        self._preloading = False

    def _current(self) -> tuple[ManifestSnapshot, dict[str, ModelSlot]]:
        """The manifest and the slots for it; slots whose bundle inputs did not change are kept."""
        snapshot = self.repository.current()
        if snapshot is self._seen:
            return snapshot, self._slots
        with self._lock:
            if snapshot is not self._seen:
                slots = {}
                for name, entry in snapshot.entries.items():
                    old = self._slots.get(name)
                    if old is not None and same_bundle(old.entry, entry):
                        old.entry = entry
                        slots[name] = old
                    else:
                        slots[name] = ModelSlot(entry=entry, path=self.models_dir / str(entry["file"]))
                dropped = [name for name, old in self._slots.items() if old.loaded and slots.get(name) is not old]
                self._slots, self._seen = slots, snapshot
                if dropped:
                    self._record_loaded(dropped)
            return snapshot, self._slots

    def _record_loaded(self, dropped: Iterable[str] = ()) -> None:
        """The loaded-models gauge: every current slot, and `dropped` (loaded, now replaced or gone) as unloaded."""
        metrics.record_loaded(dict.fromkeys(dropped, False) | {name: slot.loaded for name, slot in self._slots.items()})

    @property
    def manifest_error(self) -> str | None:
        return self._current()[0].error

    @property
    def default_name(self) -> str | None:
        """The configured default (env `DEFAULT_MODEL`, else the manifest's), or the first model listed
        when that one is not in the manifest, so a partial models folder still serves."""
        return self._default_in(*self._current())

    def _default_in(self, snapshot: ManifestSnapshot, slots: dict[str, ModelSlot]) -> str | None:
        for candidate in (self._preferred_default, snapshot.default):
            if candidate and candidate in slots:
                return candidate
        return next(iter(slots), None)

    def names(self) -> list[str]:
        return list(self._current()[1])

    def slot(self, name: object) -> ModelSlot:
        return _slot_in(self._current()[1], name)

    def bundle(self, name: object = None) -> ModelBundle:
        """The built bundle of `name` (None means the default), building it on first use."""
        snapshot, slots = self._current()  # once: a request reads the manifest's state one time
        if name is None:
            name = self._default_in(snapshot, slots)
            if name is None:
                raise ModelUnavailableError("No model is installed: the manifest lists none.")
        slot = _slot_in(slots, name)
        bundle = slot.bundle
        if bundle is not None:
            return bundle
        with slot.lock:
            if slot.bundle is None:
                self._build(slot)
            if slot.bundle is None:
                raise ModelUnavailableError(f"Model {slot.name!r} is unavailable: {slot.error}")
            return slot.bundle

    def get(self, name: object = None) -> Runtime:
        """The loaded runtime of `name` (None means the default)."""
        return self.bundle(name).runtime

    def _build(self, slot: ModelSlot) -> None:
        stamps = [file_stamp(path) for path in artifact_paths(self.models_dir, slot.entry)]
        if slot.error is not None and stamps == slot.failed_stamps:
            return  # still the same broken files: do not hash them again
        try:
            with native_chatter_filtered():  # LiteRT's C++ start-up lines
                slot.bundle = build_bundle(self.models_dir, slot.entry)
        except Exception as error:  # any failure takes only this model out of service
            slot.error, slot.failed_stamps = f"{type(error).__name__}: {error}", stamps
            logger.error("model %s failed to load: %s", slot.name, slot.error)
        else:
            slot.error = None
            release_free_heap()  # a load's transient buffers, so the worker keeps what the model holds
            self._record_loaded()
            logger.info("model %s loaded (%s)", slot.name, slot.bundle.runtime.engine)

    def is_loaded(self, name: str) -> bool:
        return self.slot(name).loaded

    def default_loaded(self) -> bool:
        name = self.default_name
        return name is not None and self.is_loaded(name)

    def load_default(self) -> None:
        """Load the default model now (start-up); failures are recorded, never raised."""
        try:
            self.bundle(None)
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


_registry: ModelRegistry | None = None
_registry_lock = threading.Lock()


def _slot_in(slots: dict[str, ModelSlot], name: object) -> ModelSlot:
    """The slot of a model by name; anything that is not a listed name is unknown (404)."""
    slot = slots.get(name) if isinstance(name, str) else None
    if slot is None:
        raise UnknownModelError(f"Unknown model {str(name)[:100]!r}; GET /list names the models served.")
    return slot


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
