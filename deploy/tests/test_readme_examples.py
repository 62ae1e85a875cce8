"""Each curl example of README.md, run as written against a real ml_server: gunicorn with the
committed models on a free port, and a throwaway feedback database."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.services import ROOT, manage, services_from_env
from testsupport.servers import free_port, gunicorn

from .readme import EXAMPLE_BASE, README, CurlExample, curl_examples, matches

EXAMPLES = curl_examples(README.read_text())

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed (make test installs it)"),
]


@pytest.fixture(scope="module")
def ml_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of an ml_server serving the committed models, as `make run` starts it."""
    database = tmp_path_factory.mktemp("feedback") / "db.sqlite3"
    port = free_port()
    env = {
        **os.environ,
        "SECRET_KEY": "readme-examples-test-" + "k" * 40,
        "DEBUG": "0",
        "DATABASE_URL": f"sqlite:///{database}",
        "ML_SERVER_PORT": str(port),
        "MODELS_DIR": str(ROOT / "models"),
        "DEFAULT_MODEL": "cnn",
    }
    service, _ = services_from_env(env)
    manage(service, env, "migrate", "--noinput", "--verbosity", "0")
    log = database.with_name("ml_server.log")
    with gunicorn("ml_server", env=env, log=log, port=port, ready_path="/ready") as server:
        yield server.url + "/"


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{i:02d}-{e.name}" for i, e in enumerate(EXAMPLES)])
def test_readme_example_answers_as_shown(example: CurlExample, ml_server: str) -> None:
    command = example.command.replace(EXAMPLE_BASE, ml_server)
    result = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert matches(example.expected, answer), f"README shows {example.expected}, the server said {answer}"


def test_examples_use_committed_inputs() -> None:
    sent = {path for e in EXAMPLES for path in re.findall(r"docs/examples/[\w-]+\.(?:png|json|txt)", e.command)}
    assert sent
    assert all(Path(ROOT, path).is_file() for path in sent), sent
