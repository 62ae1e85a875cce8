"""`make bench`: measure the serving path and write docs/benchmarks.md.

    python -m bench [--seconds 5] [--models cnn,cnn_mcd] [--out docs/benchmarks.md] [--no-write]

Order: in-process model times and baselines first (this process, nothing else running), then the
server: start to /ready, the floor (/health), every model's upload at 1, 8 and 32 connections,
memory with all models loaded, and /predict/number. Takes about 3-4 minutes with the defaults.
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.inprocess import measure_model, naive_monte_carlo, naive_predict
from bench.load import LoadResult, Request, run_wrk
from bench.report import CONNECTIONS, ModelRow, Results, latency_summary, machine_description, render
from bench.server import RunningServer, call, ml_server
from bench.uploads import CONTENT_TYPE, as_browser_canvas, canvas_digit_upload, upload, upload_body
from digits.config import MODELS_DIR, PROJECT_ROOT
from digits.data import load_mnist
from digits.manifest import read_manifest
from digits.numbers import render_number
from digits.preprocess import normalize_digit_image, to_unit_range

AGREEMENT_DIGITS = 10_000  # deterministic models: the whole MNIST test set
MC_AGREEMENT_DIGITS = 1_000  # Monte-Carlo models sample 64 heads per digit: a slice is enough
NUMBER_DIGITS = 4
WARMUP_S = 1.0


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_runs(
    server: RunningServer, request: Request, seconds: float, workdir: Path, workers: set[int]
) -> dict[int, LoadResult]:
    """Throughput at each concurrency, after a warm-up; `workers` collects every worker pid seen."""
    run_wrk(server.base_url, request, connections=8, seconds=WARMUP_S, workdir=workdir)  # pools, caches
    results = {}
    for connections in CONNECTIONS:
        results[connections] = run_wrk(
            server.base_url, request, connections=connections, seconds=seconds, workdir=workdir
        )
        workers |= server.worker_pids()
    return results


def all_models_loaded(server: RunningServer, names: list[str], png: bytes) -> int:
    """One request per model in a row, so every model is loaded in the current worker; how many are."""
    for name in names:
        call(server.base_url + "/predict", data=upload_body(png, model=name), content_type=CONTENT_TYPE)
    listing = call(server.base_url + "/list").body.get("models", [])
    return sum(1 for model in listing if model.get("loaded"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--models", help="comma-separated names (default: every model in the manifest)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each wrk run")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true", help="print the report only")
    args = parser.parse_args(argv)

    # The server's thread settings (environment defaults in its gunicorn config) for the in-process
    # figures too: without them, TensorFlow and scikit-learn's OpenMP threads slow each other ~100x.
    runpy.run_path(str(PROJECT_ROOT / "ml_server" / "gunicorn.conf.py"))
    machine = machine_description()  # before anything of ours loads the machine
    manifest = read_manifest(args.models_dir)
    entries = manifest["models"]
    if args.models:
        wanted = args.models.split(",")
        entries = [entry for entry in entries if entry["name"] in wanted]
    default = str(manifest.get("default") or entries[0]["name"])
    mnist = load_mnist()
    rng = np.random.default_rng(0)
    png = canvas_digit_upload(mnist, rng)
    image = normalize_digit_image(png)
    test = to_unit_range(mnist.x_test[:AGREEMENT_DIGITS])

    rows = {str(entry["name"]): ModelRow(str(entry["name"])) for entry in entries}
    baselines = []
    for entry in entries:
        name = str(entry["name"])
        log(f"in-process: {name}")
        digits = test[:MC_AGREEMENT_DIGITS] if entry.get("uncertainty") else test
        figures = measure_model(args.models_dir, entry, image, digits)
        row = rows[name]
        row.engine, row.model_time, row.tf_function_time, row.agreement = (
            figures.engine,
            figures.model_time,
            figures.tf_function_time,
            figures.agreement,
        )
        if figures.runtime is not None and name == "cnn":
            baselines.append(naive_predict(figures.runtime, image))
        if figures.runtime is not None and name == "cnn_mcd":
            baselines.append(naive_monte_carlo(figures.runtime, image))

    import tensorflow as tf

    machine += [("TensorFlow", tf.__version__), ("Keras", tf.keras.__version__)]
    number_png = as_browser_canvas(render_number([mnist.x_test[i] for i in range(1, 1 + NUMBER_DIGITS)], rng)[0])
    number_truth = "".join(str(int(d)) for d in mnist.y_test[1 : 1 + NUMBER_DIGITS])

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        log("starting the ml_server")
        with ml_server(models_dir=args.models_dir, workdir=workdir) as server:
            log(f"ready after {server.start_to_ready_s:.1f} s")
            rss_default = server.rss_bytes()
            workers = server.worker_pids()
            health = load_runs(server, Request("/health"), args.seconds, workdir, workers)
            for name, row in rows.items():
                request, body = upload(workdir, png, model=name)
                first = call(server.base_url + "/predict", data=body, content_type=CONTENT_TYPE)
                if first.status != 200:
                    row.note = f"HTTP {first.status}: {first.body}"
                    log(f"{name}: {row.note}")
                    continue
                row.first_request_ms = first.seconds * 1000
                log(f"wrk: {name} (first request {row.first_request_ms:.0f} ms)")
                row.load = load_runs(server, request, args.seconds, workdir, workers)
            loaded = all_models_loaded(server, [name for name, row in rows.items() if row.load], png)
            rss_all = server.rss_bytes()
            number, number_note = None, ""
            request, body = upload(workdir, number_png, model=default, path="/predict/number")
            answer = call(server.base_url + "/predict/number", data=body, content_type=CONTENT_TYPE)
            if answer.status == 200:
                number_note = f"read {answer.body.get('number')!r}, drawn {number_truth!r}"
                log(f"wrk: /predict/number ({number_note})")
                run_wrk(server.base_url, request, connections=1, seconds=WARMUP_S, workdir=workdir)
                number = run_wrk(server.base_url, request, connections=1, seconds=args.seconds, workdir=workdir)
            else:
                number_note = f"HTTP {answer.status}"
                log(f"/predict/number: {number_note} {answer.body}")

    results = Results(
        command=" ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)]),
        machine=machine,
        default_model=default,
        models=list(rows.values()),
        health=health,
        number=number,
        number_note=number_note,
        start_to_ready_s=server.start_to_ready_s,
        rss_default=rss_default,
        rss_all=rss_all,
        models_loaded=loaded,
        worker_restarts=len(workers) - 1,
        baselines=baselines,
        seconds_per_run=args.seconds,
    )
    report = render(results)
    print(report)
    if not args.no_write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report)
        summary = args.out.with_suffix(".json")
        summary.write_text(json.dumps(latency_summary(results), indent=2) + "\n")
        log(f"written to {args.out} and {summary} (make readme puts its latencies in README.md)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
