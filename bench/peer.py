"""The minimal peer `make bench` measures the ml_server against: the FastAPI + LiteRT server a
person would write in a few lines (decode the upload, resize to 28x28, one model call), run under
gunicorn with uvicorn workers, as many as the ml_server has.

It does far less than the ml_server (no centring by mass, no polarity, no not-a-digit, no JSON
errors for bad input), which is the point: it is the floor a hand-written server sets.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated

import numpy as np
from ai_edge_litert.interpreter import Interpreter
from fastapi import FastAPI, File, Form, UploadFile
from PIL import Image, ImageOps

from scripts.services import ROOT, DidNotAnswer, stop_group, wait_until_answers
from testsupport.servers import free_port


@functools.cache
def interpreter() -> Interpreter:
    """The cnn's export, loaded once per worker when it starts (not when this module is imported: the
    benchmark imports `peer_server` from it)."""
    loaded = Interpreter(
        model_path=str(Path(os.environ.get("MODELS_DIR", ROOT / "models")) / "cnn.tflite"), num_threads=1
    )
    loaded.allocate_tensors()
    return loaded


@contextlib.asynccontextmanager
async def loaded_model(_app: FastAPI) -> AsyncIterator[None]:
    interpreter()
    yield


app = FastAPI(lifespan=loaded_model)


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.post("/predict")
async def predict(image: Annotated[UploadFile, File()], model: Annotated[str, Form()] = "cnn") -> dict:
    picture = Image.open(io.BytesIO(await image.read())).convert("L").resize((28, 28))
    pixels = np.asarray(ImageOps.invert(picture), dtype=np.float32)[None] / 255.0
    model_call = interpreter()
    model_call.set_tensor(model_call.get_input_details()[0]["index"], pixels)
    model_call.invoke()
    probabilities = model_call.get_tensor(model_call.get_output_details()[0]["index"])[0]
    return {"model": model, "digit": int(probabilities.argmax()), "probabilities": probabilities.tolist()}


@contextlib.contextmanager
def peer_server(*, workers: int, models_dir: Path, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """This app under gunicorn with `workers` uvicorn workers on a free port; yields (base URL, master)."""
    port = free_port()
    command = [
        *(sys.executable, "-m", "gunicorn", "bench.peer:app", "--worker-class", "uvicorn.workers.UvicornWorker"),
        *("--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--no-control-socket"),
    ]
    env = dict(os.environ) | {"MODELS_DIR": str(models_dir)}
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_answers(base + "/health", process, timeout=120)
        except DidNotAnswer as error:
            raise DidNotAnswer(f"the peer did not start ({error}); see {log}") from None
        yield base, process
    finally:
        stop_group(process)
