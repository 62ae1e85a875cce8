"""The ceiling benchmark's parts: stages answered from their first result, the wrapped application
that replaces them, and the ratio it reports."""

from __future__ import annotations

import importlib
import sys

import pytest

from bench.breakdown import django_application
from bench.ceiling import HEADERS, ratio_row
from bench.load import LoadResult
from bench.replay import replayed


def test_a_replayed_function_runs_once_and_its_still_part_every_time():
    computed, still = [], []
    square = replayed(lambda x: computed.append(x) or x * x, still=still.append)
    assert [square(3), square(4), square(5)] == [9, 9, 9]
    assert computed == [3]
    assert still == [3, 4, 5]


def load(rps: float, errors: int = 0) -> LoadResult:
    return LoadResult(1, int(rps * 5), 5.0, errors, 0, 1.0, 2.0)


def test_the_ratio_is_of_the_peaks_and_errors_are_shown():
    row = ratio_row("everything", {1: load(300), 8: load(400)}, {1: load(1000), 8: load(800, errors=2)})
    assert len(row) == len(HEADERS)
    assert row[0] == "everything (2 errors)"
    assert row[1:5] == ["300", "400", "1000", "800"]
    assert row[-1] == "0.40"


@pytest.fixture
def wrapped_module(monkeypatch):
    """Import `bench.stages_replaced` afresh under a BENCH_REPLACED value; undo its replacements."""
    django_application()
    import predictions.apis as apis
    import predictions.inputs as inputs

    originals = (apis.classify_digits, inputs.normalize_digit_image)

    def load_with(replaced: str):
        monkeypatch.setenv("BENCH_REPLACED", replaced)
        sys.modules.pop("bench.stages_replaced", None)
        return importlib.import_module("bench.stages_replaced")

    yield load_with, apis, inputs, originals
    apis.classify_digits, inputs.normalize_digit_image = originals
    sys.modules.pop("bench.stages_replaced", None)


def test_the_wrapped_application_replaces_only_the_named_stages(wrapped_module):
    load_with, apis, inputs, (classify_digits, normalize) = wrapped_module
    module = load_with("preprocessing")
    assert inputs.normalize_digit_image is not normalize
    assert apis.classify_digits is classify_digits
    assert callable(module.application)
    load_with("preprocessing,model")
    assert apis.classify_digits is not classify_digits


def test_an_unknown_stage_is_refused(wrapped_module):
    load_with = wrapped_module[0]
    with pytest.raises(ValueError, match="unknown stages"):
        load_with("model,typo")
