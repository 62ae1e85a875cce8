"""How high the `/predict` ÷ `/health` throughput ratio can go on this stack: the ml_server as
`make run` starts it (gunicorn, Django, DRF), driven by wrk as `python -m bench` drives it, with
stages of `/predict` replaced by their results (`bench.stages_replaced`), one server per row.

    python -m bench.ceiling [--seconds 5]

The last row leaves HTTP, gunicorn, Django + DRF, the multipart parse, the PNG decode and the JSON
answer: its ratio bounds what any preprocessing and model could reach on this server.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench.load import LoadResult, Request, run_wrk
from bench.report import peak, rate, table
from bench.server import ml_server
from bench.uploads import canvas_digit_upload, upload
from digits.config import MODELS_DIR
from digits.data import load_mnist

CONNECTIONS = (1, 8)
WARMUP_S = 1.0
VARIANTS = (  # (what /predict still does, BENCH_REPLACED)
    ("everything (as served)", ""),
    ("all but preprocessing (PNG still decoded)", "preprocessing"),
    ("HTTP, Django + DRF, multipart, PNG decode, JSON only", "preprocessing,model"),
)
HEADERS = ["/predict does", *(f"{path} req/s @{c}" for path in ("/predict", "/health") for c in CONNECTIONS), "ratio"]


def ratio_row(does: str, predict: dict[int, LoadResult], health: dict[int, LoadResult]) -> list[str]:
    """One table row: throughputs and the ratio of peaks (as `python -m bench` computes it)."""
    errors = sum(result.errors for result in [*predict.values(), *health.values()])
    ratio = peak(predict) / peak(health) if peak(health) else 0.0
    cells = [rate(predict[c]) for c in CONNECTIONS] + [rate(health[c]) for c in CONNECTIONS]
    return [does + (f" ({errors} errors)" if errors else ""), *cells, f"{ratio:.2f}"]


def measure_variant(replaced: str, png: bytes, seconds: float, workdir: Path) -> tuple[dict, dict]:
    """Throughput of `/predict` and `/health` at each concurrency on a server with `replaced` stages,
    alternating the two so that drift in the machine's speed touches both alike."""
    predict, _ = upload(workdir, png, model="cnn")
    health = Request("/health")
    with ml_server(
        models_dir=MODELS_DIR,
        workdir=workdir,
        wsgi_app="bench.stages_replaced:application",
        extra_env={"BENCH_REPLACED": replaced},
    ) as server:
        run_wrk(server.base_url, predict, connections=CONNECTIONS[-1], seconds=WARMUP_S, workdir=workdir)
        runs: tuple[dict, dict] = ({}, {})
        for connections in CONNECTIONS:
            for request, results in zip((predict, health), runs, strict=True):
                results[connections] = run_wrk(
                    server.base_url, request, connections=connections, seconds=seconds, workdir=workdir
                )
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each wrk run")
    args = parser.parse_args(argv)
    png = canvas_digit_upload(load_mnist(), np.random.default_rng(0))
    rows = []
    for does, replaced in VARIANTS:
        with tempfile.TemporaryDirectory(prefix="ceiling-") as tmp:
            rows.append(ratio_row(does, *measure_variant(replaced, png, args.seconds, Path(tmp))))
        print(f"measured: {does}", file=sys.stderr, flush=True)
    print(table(HEADERS, rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
