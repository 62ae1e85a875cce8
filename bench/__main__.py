"""`make bench`: measure the serving path against a minimal peer and write docs/benchmarks.md.

    python -m bench [--seconds 5] [--models cnn,cnn_mcd] [--out docs/benchmarks.md] [--no-write]

Order: in-process model times first (this process, nothing else running); then the ml_server in its
default configuration (one worker per core): start to /ready, the floor (/health), every model's page
upload at 1, 8 and 32 connections, the phone upload, /predict/number, then /predict and /health
through `make run`'s nginx front; then the minimal FastAPI + LiteRT peer with as many workers; then
the ml_server with one worker, for the scaling ratio and the memory of a worker holding every model.
Takes about 5 minutes with the defaults.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psutil

from bench.inprocess import model_time
from bench.load import LoadResult, Request, run_wrk
from bench.peer import peer_server
from bench.report import (
    CONNECTIONS,
    ModelRow,
    Results,
    Side,
    latency_summary,
    load_average,
    machine_description,
    render,
)
from bench.server import MANY_CLIENTS, RunningServer, call, ml_server, nginx_front
from bench.uploads import CONTENT_TYPE, as_page_export, canvas_digit_upload, phone_digit_upload, upload, upload_body
from digits.config import MODELS_DIR, PROJECT_ROOT
from digits.data import load_mnist
from digits.manifest import read_manifest
from digits.numbers import render_number
from digits.preprocess import normalize_digit_image
from testsupport.servers import cpu_seconds, process_tree

NUMBER_DIGITS = 4
WARMUP_S = 1.0


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')} load {load_average()}] {message}", file=sys.stderr, flush=True)


def load_runs(
    base_url: str, request: Request, seconds: float, workdir: Path, processes: Callable[[], list[psutil.Process]]
) -> tuple[dict[int, LoadResult], float]:
    """Throughput at each concurrency after a warm-up, and the servers' CPU ms per request at 8."""
    run_wrk(base_url, request, connections=8, seconds=WARMUP_S, workdir=workdir)  # pools, caches
    results, cpu_ms = {}, 0.0
    for connections in CONNECTIONS:
        before = cpu_seconds(processes())
        results[connections] = run_wrk(base_url, request, connections=connections, seconds=seconds, workdir=workdir)
        if connections == 8 and results[8].requests:
            cpu_ms = (cpu_seconds(processes()) - before) * 1000 / results[8].requests
    return results, cpu_ms


def tensorflow_mapped(server: RunningServer) -> bool:
    """Whether any worker has a TensorFlow library mapped (imported TensorFlow at some point)."""
    return any(
        "site-packages/tensorflow/" in region.path
        for process in server.processes()[1:]
        for region in process.memory_maps()
    )


def load_every_model(server: RunningServer, names: list[str], png: bytes) -> int:
    """One request per model on a one-worker server, so every model is loaded there; how many are."""
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

    machine = machine_description()  # before anything of ours loads the machine
    manifest = read_manifest(args.models_dir)
    entries = manifest["models"]
    if args.models:
        wanted = args.models.split(",")
        entries = [entry for entry in entries if entry["name"] in wanted]
    default = str(manifest.get("default") or entries[0]["name"])
    mnist = load_mnist()
    png = canvas_digit_upload(mnist, np.random.default_rng(0))
    phone_png = phone_digit_upload(mnist, np.random.default_rng(0))
    image = normalize_digit_image(png)

    rows = {str(entry["name"]): ModelRow(str(entry["name"])) for entry in entries}
    for entry in entries:
        log(f"in-process: {entry['name']}")
        rows[str(entry["name"])].engine, rows[str(entry["name"])].model_time = model_time(args.models_dir, entry, image)
    rng = np.random.default_rng(0)
    number_png = as_page_export(render_number([mnist.x_test[i] for i in range(1, 1 + NUMBER_DIGITS)], rng)[0])
    number_truth = "".join(str(int(d)) for d in mnist.y_test[1 : 1 + NUMBER_DIGITS])

    project, peer, front = Side(), Side(), Side()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        log("starting the ml_server (default configuration)")
        with ml_server(models_dir=args.models_dir, workdir=workdir) as server:
            log(f"ready after {server.start_to_ready_s:.2f} s")
            workers = server.worker_pids()
            worker_count = len(workers)
            project.health, _ = load_runs(server.base_url, Request("/health"), args.seconds, workdir, server.processes)
            for name, row in rows.items():
                request, body = upload(workdir, png, model=name)
                first = call(server.base_url + "/predict", data=body, content_type=CONTENT_TYPE)
                if first.status != 200:
                    row.note = f"HTTP {first.status}: {first.body}"
                    log(f"{name}: {row.note}")
                    continue
                row.first_request_ms = first.seconds * 1000
                log(f"wrk: {name} (first request {row.first_request_ms:.0f} ms)")
                row.load, cpu_ms = load_runs(server.base_url, request, args.seconds, workdir, server.processes)
                if name == "cnn":
                    project.predict, project.cpu_ms_per_request = row.load, cpu_ms
                workers |= server.worker_pids()
            request, _ = upload(workdir, phone_png, model="cnn")  # rewrites the body file: the page's runs are done
            log("wrk: phone upload (cnn)")
            run_wrk(server.base_url, request, connections=1, seconds=WARMUP_S, workdir=workdir)
            phone = run_wrk(server.base_url, request, connections=1, seconds=args.seconds, workdir=workdir)
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
            log("wrk: through the nginx front")
            with nginx_front(server, workdir) as nginx:

                def fronted_processes() -> list[psutil.Process]:
                    return [*server.processes(), *nginx.processes()]

                request, _ = upload(workdir, png, model="cnn")
                front.health, _ = load_runs(
                    nginx.base_url, Request("/health"), args.seconds, workdir, fronted_processes
                )
                front.predict, front.cpu_ms_per_request = load_runs(
                    nginx.base_url, request, args.seconds, workdir, fronted_processes
                )
            tensorflow = tensorflow_mapped(server)
            start_to_ready, cpu_to_ready = server.start_to_ready_s, server.cpu_to_ready_s
            restarts = len(workers) - worker_count

        log(f"starting the peer ({worker_count} workers)")
        with peer_server(workers=worker_count, models_dir=args.models_dir, log=workdir / "peer.log") as (base, master):

            def peer_processes() -> list[psutil.Process]:
                return process_tree(master.pid)

            request, _ = upload(workdir, png, model="cnn")
            peer.health, _ = load_runs(base, Request("/health"), args.seconds, workdir, peer_processes)
            log("wrk: peer /predict")
            peer.predict, peer.cpu_ms_per_request = load_runs(base, request, args.seconds, workdir, peer_processes)

        log("starting the ml_server with one worker")
        with ml_server(models_dir=args.models_dir, workdir=workdir, extra_env={"WEB_CONCURRENCY": "1"}) as one:
            request, _ = upload(workdir, png, model="cnn")
            run_wrk(one.base_url, request, connections=8, seconds=WARMUP_S, workdir=workdir)
            one_worker = run_wrk(one.base_url, request, connections=8, seconds=args.seconds, workdir=workdir)
            loaded = load_every_model(one, list(rows), png)
            worker_rss = max(one.worker_rss_bytes(), default=0)

    results = Results(
        command=" ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)]),
        machine=machine,
        workers=worker_count,
        default_model=default,
        models=list(rows.values()),
        project=project,
        peer=peer,
        front=front,
        front_connections_per_client=int(MANY_CLIENTS["FRONT_CONNECTIONS_PER_CLIENT"]),
        one_worker_rps8=one_worker.throughput,
        number=number,
        number_note=number_note,
        phone_upload=phone,
        start_to_ready_s=start_to_ready,
        cpu_to_ready_s=cpu_to_ready,
        worker_rss_all=worker_rss,
        models_loaded=loaded,
        tensorflow_loaded=tensorflow,
        worker_restarts=restarts,
        seconds_per_run=args.seconds,
    )
    results.machine.append(("load average at the end (1, 5, 15 min)", load_average()))
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
