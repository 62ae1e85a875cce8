"""Resident memory of one service under gunicorn (master + workers), the figure the Kubernetes
resource requests and limits are sized from.

    python -m scripts.measure_memory [--service ml_server|user_server] [--port 0]

The ml_server runs on a free port with a throwaway SQLite database and is asked `/predict` once
with each model from `/list` (which loads every model); the user_server is asked for its page.
Prints the RSS of each process as JSON, and the workers' RSS after each model loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path

from scripts.services import ROOT, Service, manage, services_from_env
from testsupport.servers import free_port, gunicorn

EXAMPLE = ROOT / "docs" / "examples" / "seven-pixels.json"
MIB = 1024 * 1024


def post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.load(response)


def exercise(service: Service, base: str, workers_rss: Callable[[], int]) -> tuple[dict, dict]:
    """Load everything the service can hold: every model for the API, the page for the page. Returns
    the answers and the workers' RSS in MiB after each model's first answer, in the order they loaded
    (with WEB_CONCURRENCY=1 each rise is what that model added to the one worker)."""
    if service.name == "user_server":
        for _ in range(20):
            with urllib.request.urlopen(base, timeout=30) as response:
                response.read()
        return {}, {}
    with urllib.request.urlopen(base + "list", timeout=30) as response:
        names = [model["name"] for model in json.load(response)["models"]]
    pixels = json.loads(EXAMPLE.read_text())["pixels"]
    answers, rss = {}, {}
    for name in names:
        answers[name] = post_json(base + "predict", {"pixels": pixels, "model": name})["digit"]
        rss[name] = round(workers_rss() / MIB, 1)
    return answers, rss


def measure(service_name: str, port: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "SECRET_KEY": os.environ.get("SECRET_KEY", "measure-memory-only-" + "x" * 40),
            "DEBUG": "0",
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'db.sqlite3'}",
            "ML_SERVER_PORT": str(port),
            "USER_SERVER_PORT": str(port),
        }
        service = {s.name: s for s in services_from_env(env)}[service_name]
        if service.migrates:
            manage(service, env, "migrate", "--noinput", "--verbosity", "0")
        ready_path = "/ready" if service.migrates else "/health"
        with gunicorn(service.name, env=env, log=Path(tmp) / "server.log", port=port, ready_path=ready_path) as server:
            base = server.url + "/"
            before = {p.pid: p.memory_info().rss for p in server.processes()}
            answers, rss_by_model = exercise(
                service, base, lambda: sum(p.memory_info().rss for p in server.processes()[1:])
            )
            processes = server.processes()
            return {
                "service": service.name,
                "answers": answers,
                "workers_rss_mib_after_each_model": rss_by_model,
                "processes": [
                    {
                        "pid": p.pid,
                        "role": "master" if i == 0 else "worker",
                        "rss_mib_when_ready": round(before.get(p.pid, 0) / MIB, 1),
                        "rss_mib_after_use": round(p.memory_info().rss / MIB, 1),
                    }
                    for i, p in enumerate(processes)
                ],
                "total_rss_mib_after_use": round(sum(p.memory_info().rss for p in processes) / MIB, 1),
            }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", choices=["ml_server", "user_server"], default="ml_server")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free one")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.service, args.port or free_port()), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
