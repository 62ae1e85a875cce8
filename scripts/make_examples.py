"""Write the small example inputs the README's curl commands send (committed under docs/examples/).

    python -m scripts.make_examples [--out docs/examples] [--seed 0]

Each one is made from MNIST **test** digits by the project's own drawing helpers, so the examples
look like what the page sends and none of them was seen in training.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from digits.data import Mnist, load_mnist
from digits.numbers import render_number
from digits.synthetic import render_canvas_digit
from scripts.services import ROOT

EXAMPLES_DIR = ROOT / "docs" / "examples"
SINGLE_DIGITS = {"seven": 7, "two": 2}
NUMBER = "4207"
GRID_INK_LEVEL = 128  # the grid client's cells are ink (1) or paper (0)


def first_test_digit(mnist: Mnist, label: int) -> np.ndarray:
    return mnist.x_test[int(np.flatnonzero(mnist.y_test == label)[0])]


def write_examples(mnist: Mnist, out: Path, *, seed: int = 0) -> list[Path]:
    """Canvas PNGs, the JSON `pixels` form, the grid client's `digit` string and a drawn number."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, label in SINGLE_DIGITS.items():
        digit = first_test_digit(mnist, label)
        written.append(out / f"{name}.png")
        written[-1].write_bytes(render_canvas_digit(digit, rng))
        written.append(out / f"{name}-pixels.json")
        written[-1].write_text(json.dumps({"pixels": digit.astype(int).tolist()}, separators=(",", ":")) + "\n")
        written.append(out / f"{name}-grid.txt")
        written[-1].write_text("".join("1" if value >= GRID_INK_LEVEL else "0" for value in digit.ravel()))
    png, _boxes, _touching = render_number([first_test_digit(mnist, int(c)) for c in NUMBER], rng)
    written.append(out / "number.png")
    written[-1].write_bytes(png)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=EXAMPLES_DIR)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for path in write_examples(load_mnist(), args.out, seed=args.seed):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
