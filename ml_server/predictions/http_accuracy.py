"""Measure every served model's accuracy through the HTTP API, as a client sees it.

    cd ml_server && ../.venv/bin/python -m predictions.http_accuracy --url http://127.0.0.1:8001

MNIST test digits go as `pixels` (0..255) in batches of 256 `instances`; the manifest's canvas set
(the same drawings, seed 0) goes as base64 PNG `instances`, preprocessed by the server. The table
sets each figure beside the one the manifest claims.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import numpy as np

from digits.data import load_mnist
from digits.evaluate import DEFAULT_CANVAS_COUNT
from digits.synthetic import canvas_digit_set

PIXEL_BATCH = 256  # the contract's largest batch
IMAGE_BATCH = 64  # canvas PNGs are larger: keeps each body well under the 5 MB limit


def call(url: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.load(response)


def accuracy(url: str, model: str, instances: list[dict[str, Any]], labels: np.ndarray, batch: int) -> float:
    digits = []
    for start in range(0, len(instances), batch):
        answer = call(f"{url}/predict", {"model": model, "instances": instances[start : start + batch]})
        digits += [prediction["digit"] for prediction in answer["predictions"]]
    return float((np.asarray(digits) == labels).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m predictions.http_accuracy", description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8001")
    parser.add_argument("--models", help="comma-separated (default: every model GET /list names)")
    parser.add_argument("--test-limit", type=int, help="first N MNIST test digits only (default: all 10,000)")
    parser.add_argument("--canvas-count", type=int, default=DEFAULT_CANVAS_COUNT, help="0 to skip the canvas set")
    args = parser.parse_args(argv)

    url = args.url.rstrip("/")
    listed = {m["name"]: m for m in call(f"{url}/list")["models"]}
    names = args.models.split(",") if args.models else list(listed)
    mnist = load_mnist()
    x_test, y_test = mnist.x_test[: args.test_limit], mnist.y_test[: args.test_limit]
    pixels = [{"pixels": image.tolist()} for image in x_test]
    drawings, canvas_labels = canvas_digit_set(mnist.x_test, mnist.y_test, count=args.canvas_count, seed=0)
    images = [{"image": base64.b64encode(png).decode("ascii")} for png in drawings]

    print(f"{url}: {len(pixels)} MNIST test digits, {len(images)} canvas drawings")
    print(f"{'model':<9} {'mnist_http':>10} {'manifest':>9} {'canvas_http':>11} {'manifest':>9} {'seconds':>8}")
    for name in names:
        claimed = listed.get(name, {}).get("metrics", {})
        started = time.perf_counter()
        try:
            mnist_accuracy = accuracy(url, name, pixels, y_test, PIXEL_BATCH)
            canvas_accuracy = accuracy(url, name, images, canvas_labels, IMAGE_BATCH) if images else float("nan")
        except urllib.error.HTTPError as error:
            print(f"{name:<9} HTTP {error.code}: {error.read().decode(errors='replace')[:200]}")
            continue
        print(
            f"{name:<9} {mnist_accuracy:>10.4f} {claimed.get('mnist_test_accuracy', float('nan')):>9.4f} "
            f"{canvas_accuracy:>11.4f} {claimed.get('canvas_accuracy', float('nan')):>9.4f} "
            f"{time.perf_counter() - started:>8.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
