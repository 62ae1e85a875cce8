"""The entry points a newcomer and CI use: the Makefile's targets, .ci/run and the GitHub workflow."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from scripts.services import ROOT

WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())


def make_dry_run(target: str) -> str:
    """The commands `make TARGET` would run, with the install steps taken as done."""
    env = {**os.environ, "MAKEFLAGS": ""}
    result = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "-o", ".venv/.installed-dev", target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_workflow_runs_on_push_and_pull_request() -> None:
    triggers = WORKFLOW.get("on", WORKFLOW.get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"push", "pull_request"} <= set(triggers)


def test_workflow_sets_up_python_311_with_a_pip_cache_and_runs_make_test() -> None:
    (job,) = WORKFLOW["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    setup = next(step for step in job["steps"] if step.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["python-version"] == "3.11"
    assert setup["with"]["cache"] == "pip"
    assert any(step.get("run") == "make test" for step in job["steps"])


def test_ci_script_is_strict_bash_that_calls_make_test() -> None:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines
    assert lines[-1] == "make test"


@pytest.mark.parametrize(
    ("target", "command"),
    [
        ("run", "-m scripts.run"),
        ("dev", "-m scripts.run --dev"),
        ("bench", "-m bench"),
        ("models", "-m digits.train --out models"),
        ("test", "bash scripts/test.sh"),
        ("lint", "bash scripts/test.sh lint"),
    ],
)
def test_make_target_runs_its_command(target: str, command: str) -> None:
    assert command in make_dry_run(target)


def test_make_test_installs_system_packages_before_the_suites() -> None:
    commands = make_dry_run("test")
    assert commands.index("scripts/system_deps.sh") < commands.index("scripts/test.sh")


def test_test_script_runs_every_suite_in_its_own_pytest_process() -> None:
    script = (ROOT / "scripts" / "test.sh").read_text()
    for suite in (
        'suite digits . "$py" -m pytest digits',
        'suite ml_server ml_server "$py" -m pytest',
        'suite user_server user_server "$py" -m pytest',
        'DIGITS_QUICK=1 "$py" -m pytest --nbmake notebooks',
        'suite bench . "$py" -m pytest bench',
        'suite deploy . "$py" -m pytest deploy',
    ):
        assert suite in script


def run_test_script(tmp_path: Path, fake_python: str, *args: str) -> subprocess.CompletedProcess[str]:
    """scripts/test.sh with every step run by a fake python: a bash script of one test line."""
    python = tmp_path / "python"
    python.write_text(f"#!/usr/bin/env bash\n{fake_python}\n")
    python.chmod(0o755)
    return subprocess.run(
        ["bash", "scripts/test.sh", *args],
        cwd=ROOT,
        env={**os.environ, "PY": str(python)},
        capture_output=True,
        text=True,
        check=False,
    )


def test_lint_runs_the_checks_alone(tmp_path) -> None:
    result = run_test_script(tmp_path, "[[ $* != *mypy* ]]", "lint")  # only mypy fails

    assert result.returncode == 1
    assert "=== ruff: passed" in result.stdout and "=== ruff-format: passed" in result.stdout
    assert "make lint: failed: mypy (exit 1)" in result.stderr
    assert "=== digits" not in result.stdout  # no test suite


def test_a_failing_suite_fails_the_whole_run(tmp_path) -> None:
    result = run_test_script(tmp_path, "[[ $PWD != */ml_server ]]")  # only the ml_server suite fails

    assert result.returncode == 1
    assert "failed suites: ml_server (exit 1)" in result.stderr
    assert "=== deploy: passed" in result.stdout  # later suites still ran
