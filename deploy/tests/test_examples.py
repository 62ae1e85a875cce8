"""The README's example inputs are exactly what `python -m scripts.make_examples` makes."""

from __future__ import annotations

from pathlib import Path

from digits.data import load_mnist
from scripts.make_examples import EXAMPLES_DIR, write_examples


def test_the_committed_examples_are_what_the_script_writes(tmp_path: Path) -> None:
    written = write_examples(load_mnist(), tmp_path)
    assert {path.name for path in written} <= {path.name for path in EXAMPLES_DIR.iterdir()}
    for path in written:
        assert path.read_bytes() == (EXAMPLES_DIR / path.name).read_bytes(), path.name
