"""The feedback tests again, against a real PostgreSQL server started for this session.

pytest-django sets up one database per session, so the scenario runs in a child pytest whose
DATABASE_URL points at the throwaway server (`postgres_url` in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SERVICE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
def test_feedback_tests_pass_on_postgresql(postgres_url):
    command = [sys.executable, "-m", "pytest", "feedback/tests", "-q", "-m", "not postgres and not slow"]
    command += ["-p", "no:cacheprovider"]
    env = {**os.environ, "DATABASE_URL": postgres_url}

    result = subprocess.run(command, cwd=SERVICE_DIR, env=env, capture_output=True, text=True, timeout=900, check=False)

    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    print(f"PostgreSQL run: {summary}")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in summary
    assert "skipped" not in summary
