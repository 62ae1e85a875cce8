#!/usr/bin/env bash
# The whole test suite: lint, format and type checks, then one pytest process per suite (each Django
# service has its own settings module), every step run even when an earlier one fails; fails when any
# step fails. Every suite has tests, so pytest's "no tests collected" (exit 5) is a failure like any
# other. The project is installed (`pip install -e .`), so nothing here sets PYTHONPATH.
# `scripts/test.sh lint` runs the checks alone (make lint).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
py=${PY:-$root/.venv/bin/python}

failed=()
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
suite() {  # suite NAME FOLDER COMMAND...
    local name=$1 folder=$2
    shift 2
    echo "=== $name: (cd $folder && $*)"
    if (cd "$folder" && "$@") 2>&1 | tee "$logs/$name.log"; then
        echo "=== $name: passed"
    else
        local code=${PIPESTATUS[0]}
        echo "=== $name: FAILED (exit $code)"
        failed+=("$name (exit $code)")
    fi
}

count() {  # count WORD: the sum of "N WORD" over every suite's closing pytest line
    grep -hoE "^=+ .*[0-9]+ $1" "$logs"/*.log | grep -oE "[0-9]+ $1" | awk '{n += $1} END {print n + 0}'
}

suite ruff . "$py" -m ruff check .
suite ruff-format . "$py" -m ruff format --check .
suite mypy . "$py" -m mypy  # files and settings: [tool.mypy] in pyproject.toml
if [[ ${1:-} == lint ]]; then
    if ((${#failed[@]})); then
        echo "make lint: failed: ${failed[*]}" >&2
        exit 1
    fi
    echo "make lint: all checks passed"
    exit 0
fi
suite digits . "$py" -m pytest digits
suite ml_server ml_server "$py" -m pytest
suite user_server user_server "$py" -m pytest
if compgen -G 'notebooks/*.ipynb' >/dev/null; then
    suite notebooks . env DIGITS_QUICK=1 "$py" -m pytest --nbmake notebooks
else
    echo "=== notebooks: none yet, skipped"
fi
if [[ -d bench/tests ]]; then
    suite bench . "$py" -m pytest bench
fi
suite deploy . "$py" -m pytest deploy

echo "all suites: $(count passed) passed, $(( $(count failed) + $(count error) )) failed, $(count skipped) skipped"
if ((${#failed[@]})); then
    echo "make test: failed suites: ${failed[*]}" >&2
    exit 1
fi
echo "make test: all suites passed"
