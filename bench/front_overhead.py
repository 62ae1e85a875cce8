"""What the nginx front costs: the same gunicorn ml_server measured directly and through the front
(`scripts.front`, `make run`'s configuration and limits) with wrk, `/health` and a canvas upload to
`/predict`, at 1 and 8 keep-alive connections (within the front's 16 per client).

    python -m bench.front_overhead [--seconds 10] [--model rf]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from bench.load import Request, run_wrk
from bench.server import ml_server, nginx_front
from bench.uploads import canvas_digit_upload, upload
from digits.config import MODELS_DIR
from digits.data import load_mnist

CONNECTIONS = (1, 8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--model", default="rf")
    args = parser.parse_args(argv)
    png = canvas_digit_upload(load_mnist(), np.random.default_rng(0))
    lines = [
        "| request | connections | direct req/s | through the front req/s | direct p50 / p99 ms | front p50 / p99 ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        with (
            ml_server(models_dir=MODELS_DIR, workdir=workdir, extra_env={"DEFAULT_MODEL": args.model}) as server,
            nginx_front(server, workdir, env={}) as front,
        ):
            requests = [("/health", Request("/health")), ("/predict", upload(workdir, png, model=args.model)[0])]
            for label, request in requests:
                for connections in CONNECTIONS:
                    direct, fronted = (
                        run_wrk(base, request, connections=connections, seconds=args.seconds, workdir=workdir)
                        for base in (server.base_url, front.base_url)
                    )
                    assert direct.errors == 0 and fronted.errors == 0, (direct, fronted)
                    lines.append(
                        f"| {label} | {connections} | {direct.throughput:.0f} | {fronted.throughput:.0f} | "
                        f"{direct.p50_ms:.1f} / {direct.p99_ms:.1f} | {fronted.p50_ms:.1f} / {fronted.p99_ms:.1f} |"
                    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
