"""`manage.py export_feedback --out data/feedback.npz`: the corrections as a training set.

Writes `x` (n, 28, 28) float32 0..1 (the inputs the models saw), `y` (n,) uint8 (the true digits),
`predicted` (n,) int8 (-1 where no guess was reported) and `model` (n,) str, the format
`python -m digits.train --extra` reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import Error as DatabaseError

from digits.config import IMAGE_SIZE
from feedback.models import Feedback, input_from_bytes


def feedback_dataset() -> dict[str, np.ndarray]:
    """Every stored correction, oldest first, as arrays."""
    rows = list(
        Feedback.objects.order_by("created_at", "id").values_list("model_input", "label", "predicted", "model_name")
    )
    x = np.zeros((len(rows), IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    for index, row in enumerate(rows):
        x[index] = input_from_bytes(row[0])
    return {
        "x": x,
        "y": np.array([row[1] for row in rows], dtype=np.uint8),
        "predicted": np.array([-1 if row[2] is None else row[2] for row in rows], dtype=np.int8),
        "model": np.array([row[3] for row in rows], dtype=str),
    }


class Command(BaseCommand):
    help = "Export the stored feedback as an .npz dataset (x, y, predicted, model) for digits.train --extra."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, required=True, help="the .npz file to write, e.g. data/feedback.npz")

    def handle(self, *_args: Any, out: Path, **_options: Any) -> None:
        try:
            dataset = feedback_dataset()
        except DatabaseError as error:
            raise CommandError(f"cannot read feedback from the database: {error}") from error
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        with partial.open("wb") as handle:  # a file object, so numpy does not append ".npz" to the name
            np.savez_compressed(handle, **dataset)
        partial.replace(out)  # readers never see a half-written file
        self.stdout.write(f"wrote {len(dataset['y'])} feedback examples to {out}")
