"""The manifest as the registry sees it: `models_dir/manifest.json` read into entries, re-read
whenever its inode, mtime or size changes (one `stat` per call otherwise). An unreadable manifest
leaves the last good one in force, with the error kept for /ready."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digits.manifest import MANIFEST_NAME, ManifestError, read_manifest

logger = logging.getLogger(__name__)

FileStamp = tuple[int, int, int] | None  # (inode, mtime_ns, size), None when the file is absent


def file_stamp(path: Path) -> FileStamp:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


@dataclass(frozen=True)
class ManifestSnapshot:
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)  # by name, in the manifest's order
    default: str | None = None
    error: str | None = None  # why the manifest on disk could not be read, if it could not


class ManifestRepository:
    def __init__(self, models_dir: Path) -> None:
        self.models_dir = Path(models_dir)
        self._lock = threading.Lock()
        self._stamp: FileStamp = None
        self._snapshot: ManifestSnapshot | None = None

    def current(self) -> ManifestSnapshot:
        """The manifest as it stands now (the same object until the file changes)."""
        stamp = file_stamp(self.models_dir / MANIFEST_NAME)
        snapshot = self._snapshot
        if snapshot is not None and stamp == self._stamp:
            return snapshot
        with self._lock:
            if self._snapshot is None or stamp != self._stamp:
                self._snapshot, self._stamp = self._read(self._snapshot), stamp
            return self._snapshot

    def _read(self, last: ManifestSnapshot | None) -> ManifestSnapshot:
        try:
            manifest = read_manifest(self.models_dir)
        except ManifestError as error:
            logger.error("model manifest unusable, keeping the last good one: %s", error)
            last = last or ManifestSnapshot()
            return ManifestSnapshot(last.entries, last.default, str(error))
        entries = {str(entry["name"]): entry for entry in manifest["models"]}
        logger.info("model manifest read: %s", ", ".join(entries) or "no models")
        return ManifestSnapshot(entries, manifest.get("default"))
