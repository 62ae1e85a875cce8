"""What rendering a 256-digit `/predict` answer through DRF serializers would cost against the plain
dicts the views build (the reason the serializers describe the schema only):

    cd ml_server && ../.venv/bin/python -m bench.response_rendering
"""

from __future__ import annotations

import os
import timeit
from typing import Any

import numpy as np

BATCH = 256  # the contract's largest batch
REPEATS = 50


def digit_bodies(count: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    bodies = []
    for _ in range(count):
        probabilities = rng.dirichlet(np.ones(10)).tolist()
        bodies.append(
            {
                "model": "cnn",
                "digit": int(np.argmax(probabilities)),
                "confidence": max(probabilities),
                "probabilities": probabilities,
                "not_a_digit": False,
                "elapsed_ms": 1.0,
            }
        )
    return bodies


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    import django

    django.setup()
    from predictions.serializers import BatchPredictionSerializer

    bodies = digit_bodies(BATCH)
    batch = {"model": "cnn", "predictions": bodies, "elapsed_ms": 1.0}
    serialized = timeit.timeit(lambda: BatchPredictionSerializer(batch).data, number=REPEATS) / REPEATS
    plain = timeit.timeit(lambda: {**batch, "predictions": [dict(b) for b in bodies]}, number=REPEATS) / REPEATS
    print(f"{BATCH}-digit answer: serializer {serialized * 1000:.2f} ms, plain dicts {plain * 1000:.3f} ms")


if __name__ == "__main__":
    main()
