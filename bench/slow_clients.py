"""How `make run` (nginx front, gunicorn behind) serves a well-behaved client while slow clients hold
connections: the figures of the README's Reliability section.

    python -m bench.slow_clients [--seconds 12] [--model rf]

Starts `scripts.run` on free loopback ports, then for each service: the client alone, then the same
client while 256 half-open and 32 trickling connections (one header line every 2 s) are held from
another loopback address, reopened as soon as the front cuts them; last, for comparison, the
ml_server's gunicorn alone with `HALF_OPEN_DIRECT` half-open connections. Prints one markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import psutil

from testsupport.servers import MakeRun, gunicorn, make_run, production_env
from testsupport.slow_clients import Latencies, SlowLoris, timed_requests

HALF_OPEN, TRICKLING = 256, 32
# Without the front: enough half-open connections to hold every thread of every worker (with one
# worker per core, four held one worker; the other could still answer, depending on where they landed).
HALF_OPEN_DIRECT = 64
REQUEST_EVERY_S = 0.05


def front_rss_mib(stack: MakeRun) -> float:
    """Resident memory of the nginx front (master and worker) of a running `make run`."""
    processes = psutil.Process(stack.process.pid).children(recursive=True)
    return sum(p.memory_info().rss for p in processes if "nginx" in " ".join(p.cmdline())) / 2**20


def row(
    service: str, scenario: str, served: Latencies, cut: dict[str, list[float]] | None, rss_mib: float | None
) -> str:
    ordered = sorted(served.seconds)
    failures = sum(status != 200 for status in served.statuses)
    cuts = "" if cut is None else " / ".join(_latest_cut(times) for times in cut.values())
    rss = "" if rss_mib is None else f"{rss_mib:.1f}"
    return (
        f"| {service} | {scenario} | {len(ordered)} | {failures} | {statistics.median(ordered) * 1000:.1f} | "
        f"{served.p99() * 1000:.1f} | {ordered[-1] * 1000:.1f} | {cuts} | {rss} |"
    )


def _latest_cut(times: list[float]) -> str:
    """When the last of a kind of slow connection was cut, and how many were: a run shorter than the
    front's deadlines cuts none."""
    return f"{max(times):.1f} s ({len(times)})" if times else "none cut (0)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="length of each scenario")
    parser.add_argument("--model", default="rf", help="the ml_server's default model (what /predict runs)")
    args = parser.parse_args(argv)
    lines = [
        "| service | scenario | requests | not 200 | p50 ms | p99 ms | max ms "
        "| slowest cut: half-open / trickling (count) | front RSS MiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    with tempfile.TemporaryDirectory() as tmp, make_run(Path(tmp), DEFAULT_MODEL=args.model) as stack:
        targets = [
            ("ml_server", stack.ml_port, "/predict", [("GET", "/health"), ("POST", "/predict")]),
            ("user_server", stack.page_port, "/", [("GET", "/"), ("GET", "/health")]),
        ]
        for service, port, page, paths in targets:
            quiet = timed_requests(port, paths, duration_s=args.seconds, every_s=REQUEST_EVERY_S)
            lines.append(row(service, "alone", quiet, None, front_rss_mib(stack)))
            attack = SlowLoris(
                port, page, source="127.0.0.2", half_open=HALF_OPEN, trickling=TRICKLING, duration_s=args.seconds + 10
            )
            attack.start()
            attack.holding.wait(timeout=30)
            attacked = timed_requests(port, paths, duration_s=args.seconds, every_s=REQUEST_EVERY_S)
            rss_mib = front_rss_mib(stack)  # while the attack still holds its connections
            outcome = attack.result()
            scenario = f"{HALF_OPEN} half-open + {TRICKLING} trickling"
            lines.append(row(service, scenario, attacked, outcome["cut_after_s"], rss_mib))
        lines.append(without_front(Path(tmp), args))
    print("\n".join(lines))
    return 0


def without_front(workdir: Path, args: argparse.Namespace) -> str:
    """The issue's finding, for comparison: the ml_server's gunicorn alone, and half-open connections."""
    env = production_env(
        SECRET_KEY="bench-slow-clients-" + "s" * 40,
        DATABASE_URL=f"sqlite:///{workdir / 'direct.sqlite3'}",
        DEFAULT_MODEL=args.model,
    )
    with gunicorn("ml_server", env=env, log=workdir / "direct.log") as server:
        attack = SlowLoris(
            server.port, "/predict", source="127.0.0.2", half_open=HALF_OPEN_DIRECT, trickling=0, duration_s=60
        )
        attack.start()
        attack.holding.wait(timeout=30)
        paths = [("GET", "/health"), ("POST", "/predict")]
        attacked = timed_requests(server.port, paths, duration_s=args.seconds, every_s=REQUEST_EVERY_S)
        attack.result()
    return row("ml_server", f"gunicorn alone, no front: {HALF_OPEN_DIRECT} half-open", attacked, None, None)


if __name__ == "__main__":
    raise SystemExit(main())
