"""gunicorn settings for ml_server: several small worker processes, one per core by default.

The API imports no TensorFlow (Keras models run from their `.tflite` export on LiteRT), so a
worker is small and quick to start, and separate processes use every core where
threads of one process are held to one by the GIL. Run from the repository:
    .venv/bin/gunicorn -c ml_server/gunicorn.conf.py
Every value can be overridden by environment variables (HOST, ML_SERVER_PORT, WEB_CONCURRENCY,
GUNICORN_THREADS, GUNICORN_TIMEOUT, GUNICORN_MAX_REQUESTS, ACCESS_LOG).

/metrics sums every worker's figures through prometheus-client's multiprocess mode: each master
start gets a fresh PROMETHEUS_MULTIPROC_DIR (set here, before any worker imports the client), and
a dead worker's live gauges are dropped in `child_exit`.
"""

import gc
import os
import shutil
import tempfile
from pathlib import Path

SERVICE_DIR = Path(__file__).resolve().parent

chdir = str(SERVICE_DIR)  # gunicorn also puts this folder on the import path: the service's packages
wsgi_app = "config.wsgi:application"
raw_env = [f"DJANGO_SETTINGS_MODULE={os.environ.get('DJANGO_SETTINGS_MODULE', 'config.settings')}"]

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('ML_SERVER_PORT', '8001')}"
workers = int(os.environ.get("WEB_CONCURRENCY", str(os.cpu_count() or 1)))
worker_class = "gthread"
# A few threads per worker: a request waiting on a slow client or the database leaves the others
# going; more would only queue on the worker's one GIL.
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# The master imports Django and the libraries once, before forking: workers start at once (a
# replacement for a dead worker serves once it has loaded its default model), share those pages
# until they write them, and do not compete for the cores importing the same modules at start-up.
# Models are loaded after the fork, in `post_worker_init`, so no model runtime crosses a fork.
preload_app = True

timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# A recycled worker is forked from the master and reloads its models while the others serve, and
# memory stays flat under load (ml_server/tests/test_load.py checks it): a safety net, not a routine.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "200000"))
max_requests_jitter = max_requests // 10

# Request-line and header limits of gunicorn stay at their safe defaults; the body limit is the app's.
control_socket_disable = True  # gunicorn 27's control socket has one default path; user_server runs beside us
accesslog = None  # the app's JSON request line (core.request_log) is the access log, shown with ACCESS_LOG on
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# One worker per core already keeps the cores busy: numerical libraries' own thread pools (OpenBLAS,
# OpenMP) would only make the workers wait on each other. Set before the app (and numpy) is imported.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

# One fresh metrics folder per master start (this file is read once by the master): files left by an
# earlier run would be summed in.
METRICS_DIR = tempfile.mkdtemp(prefix="ml-server-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = METRICS_DIR


def post_worker_init(worker):
    """In each new worker, once Django is loaded: load the default model, then take everything alive
    out of the garbage collector's reach (`gc.freeze`), so a full collection never walks Django's
    and the libraries' long-lived objects in the middle of a request."""
    from predictions.registry import get_registry

    get_registry().load_default()
    settle_heap()
    worker.log.info("worker %s: ready", worker.pid)


def settle_heap():
    gc.collect()
    gc.freeze()


def child_exit(_server, worker):
    """A worker is gone (exited or killed): its live gauges leave the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(_server):
    shutil.rmtree(METRICS_DIR, ignore_errors=True)
