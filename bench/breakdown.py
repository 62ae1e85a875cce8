"""Where a `/predict` goes, inside one process: the ml_server's WSGI application called directly
(no HTTP, no gunicorn, request log silenced), `/health` beside a canvas upload to `/predict`, then
the same upload with the preprocessing, and then also the model and the not-a-digit signals,
replaced by their results; a phone's 840x840 canvas beside a desktop's 280x280 one, each as the page
exports it (`bench.uploads`). "CPU ms" is the calling thread's CPU time per call, the figure to read
on a busy machine (wall-clock p50/p99 include waiting for a core).

    cd ml_server && ../.venv/bin/python -m bench.breakdown [--seconds 2]

(from the service's folder, as gunicorn runs it: the service's packages are not installed.)

The differences between the rows are what each stage costs in the request; the load benchmark
(`python -m bench`) measures the same requests through gunicorn and HTTP.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import secrets
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from bench.inprocess import Timing, time_calls
from bench.uploads import CONTENT_TYPE, canvas_digit_upload, phone_digit_upload, upload_body
from digits.data import load_mnist
from digits.preprocess import decode_image, normalize_digit_image


def wsgi_environ(path: str, *, body: bytes = b"", content_type: str = "") -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST" if body else "GET",
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8001",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8001",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }


def request_sender(application: Callable, path: str, **body: Any) -> Callable[[], int]:
    """A call that sends one request to the WSGI application and returns its status code."""

    def send() -> int:
        statuses: list[str] = []
        answer = application(wsgi_environ(path, **body), lambda status, _headers, _exc=None: statuses.append(status))
        b"".join(answer)
        answer.close()
        return int(statuses[0].split()[0])

    return send


@contextlib.contextmanager
def replaced(module: Any, name: str, value: Any) -> Iterator[None]:
    original = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, original)


def django_application() -> Callable:
    """The ml_server's WSGI application with its production settings (DEBUG off, unthrottled)."""
    if importlib.util.find_spec("config") is None:  # the service's packages live in its folder only
        raise SystemExit("run this from the ml_server folder: cd ml_server && python -m bench.breakdown")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("PREDICT_THROTTLE_RATE", "1000000/s")
    import logging

    from config.wsgi import application

    logging.getLogger("ml_server.requests").setLevel(logging.WARNING)  # a line per request would flood the table
    return application


def measure(seconds: float) -> list[tuple[str, Timing]]:
    application = django_application()
    import predictions.apis as apis
    import predictions.inputs as inputs
    from predictions.registry import get_registry

    mnist = load_mnist()
    png = canvas_digit_upload(mnist, np.random.default_rng(0))
    phone_png = phone_digit_upload(mnist, np.random.default_rng(0))
    predict = request_sender(application, "/predict", body=upload_body(png, model="cnn"), content_type=CONTENT_TYPE)
    phone = request_sender(application, "/predict", body=upload_body(phone_png, model="cnn"), content_type=CONTENT_TYPE)
    health = request_sender(application, "/health")
    get_registry().get("cnn")
    assert predict() == 200 and health() == 200
    digit = normalize_digit_image(png)
    batch = apis.classify_digits(model_name="cnn", images=digit[None])
    rows = [
        ("/health", time_calls(health, budget_s=seconds)),
        ("/predict, canvas PNG upload (cnn)", time_calls(predict, budget_s=seconds)),
        ("/predict, phone canvas 840x840 upload (cnn)", time_calls(phone, budget_s=seconds)),
    ]
    with replaced(inputs, "normalize_digit_image", lambda _image: digit):
        rows.append(("/predict, preprocessing replaced by its result", time_calls(predict, budget_s=seconds)))
        with replaced(apis, "classify_digits", lambda **_: batch):
            rows.append(("/predict, and the model and not-a-digit signals too", time_calls(predict, budget_s=seconds)))
    rows.append(("normalize_digit_image(PNG bytes) alone", time_calls(lambda: normalize_digit_image(png))))
    rows.append(("decode_image(PNG bytes) alone", time_calls(lambda: decode_image(png))))
    rows.append(("normalize_digit_image(phone PNG) alone", time_calls(lambda: normalize_digit_image(phone_png))))
    rows.append(("decode_image(phone PNG) alone", time_calls(lambda: decode_image(phone_png))))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.breakdown", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time budget of each row")
    args = parser.parse_args(argv)
    print(
        f"{'in one process, through the WSGI application':<56} {'CPU ms':>8} {'p50 ms':>8} {'p99 ms':>8} {'calls':>7}"
    )
    for name, timing in measure(args.seconds):
        print(
            f"{name:<56} {timing.cpu_ms:>8.3f} {timing.p50_ms:>8.3f} {timing.p99_ms:>8.3f} {timing.count:>7}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
