"""The ml_server's WSGI application with stages of `/predict` replaced by their results, served only
by `python -m bench.ceiling`. BENCH_REPLACED (comma-separated) names the stages:

- `preprocessing`: `normalize_digit_image` (the upload is still decoded: any server must decode it);
- `model`: the model and the not-a-digit signals (`classify_digits`).

A replaced stage runs for real on the first request; later requests reuse that result, which is
right because the ceiling benchmark sends the same upload every time.
"""

from __future__ import annotations

import os

from config.wsgi import application  # sets Django up, so first: the views below need it
from predictions import apis, inputs

from bench.replay import replayed
from digits.preprocess import decode_image

STAGES = frozenset({"preprocessing", "model"})
REPLACED = frozenset(filter(None, os.environ.get("BENCH_REPLACED", "").split(",")))
if REPLACED - STAGES:
    raise ValueError(f"BENCH_REPLACED names unknown stages {sorted(REPLACED - STAGES)}; known: {sorted(STAGES)}")
if "preprocessing" in REPLACED:
    inputs.normalize_digit_image = replayed(inputs.normalize_digit_image, still=decode_image)
if "model" in REPLACED:
    apis.classify_digits = replayed(apis.classify_digits)

__all__ = ["application"]
