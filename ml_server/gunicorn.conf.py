"""gunicorn settings for ml_server, fit for TensorFlow.

One worker process (models are large and TensorFlow does not survive a fork well) serving
requests on threads; the models are loaded in the worker after the fork. Run from the repository:
    .venv/bin/gunicorn -c ml_server/gunicorn.conf.py
Every value can be overridden by environment variables (HOST, ML_SERVER_PORT, WEB_CONCURRENCY,
GUNICORN_THREADS, GUNICORN_TIMEOUT, GUNICORN_MAX_REQUESTS, ACCESS_LOG).
"""

import os
from pathlib import Path

SERVICE_DIR = Path(__file__).resolve().parent

chdir = str(SERVICE_DIR)  # gunicorn also puts this folder on the import path: the service's packages
wsgi_app = "config.wsgi:application"
raw_env = [f"DJANGO_SETTINGS_MODULE={os.environ.get('DJANGO_SETTINGS_MODULE', 'config.settings')}"]

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('ML_SERVER_PORT', '8001')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", str(max(4, 2 * (os.cpu_count() or 1)))))
preload_app = False  # import Django (and TensorFlow) in each worker, after the fork

timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))  # first TensorFlow load takes a few seconds
graceful_timeout = 20
keepalive = 5
# Recycling a worker reloads Django, TensorFlow and the models (seconds without service when there is
# one worker), and memory stays flat under load (ml_server/tests/test_load.py checks it), so
# recycle rarely: a safety net, not a routine.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "200000"))
max_requests_jitter = max_requests // 10

# Request-line and header limits of gunicorn stay at their safe defaults; the body limit is the app's.
control_socket_disable = True  # gunicorn 27's control socket has one default path; user_server runs beside us
accesslog = None  # the app's JSON request line (core.request_log) is the access log, shown with ACCESS_LOG on
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# TensorFlow's own thread pools: a few threads each, so gunicorn's threads share the cores.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(os.cpu_count() or 1))
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def post_worker_init(worker):
    """Start loading the default model in this worker (after the fork); /ready turns 200 when done."""
    from predictions.registry import get_registry

    worker.log.info("worker %s: loading the default model in the background", worker.pid)
    get_registry().preload_default_in_background()
