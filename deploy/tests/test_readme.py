"""README.md stays true: its model table is the manifest's, every setting the code reads is
documented, every /predict input form has an example, and the files it shows exist."""

from __future__ import annotations

import re

import pytest

from scripts import model_table
from scripts.services import ROOT

from .readme import README, curl_examples, fenced_blocks, matches

TEXT = README.read_text()
# Django's own, set by manage.py and wsgi.py themselves.
NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE"}


def test_model_table_is_the_one_generated_from_the_manifest() -> None:
    assert model_table.with_table(TEXT, model_table.current_table()) == TEXT, "run `make readme`"


def test_model_table_lists_every_model_of_the_manifest() -> None:
    table = TEXT.split(model_table.START, 1)[1].split(model_table.END, 1)[0]
    manifest = model_table.read_manifest(model_table.MODELS_DIR)
    for entry in manifest["models"]:
        assert f"| `{entry['name']}` |" in table


@pytest.mark.parametrize("service", ["ml_server", "user_server"])
def test_every_setting_the_services_read_is_documented(service: str, settings_read_by) -> None:
    settings = TEXT.split("## Settings", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", settings))
    assert settings_read_by(service) - NOT_SETTINGS <= documented


@pytest.mark.parametrize(
    ("form", "marker"),
    [
        ("multipart upload", "-F image=@"),
        ("JSON base64", '\\"image\\": \\"$(base64'),
        ("JSON data URL", "data:image/png;base64,"),
        ("JSON pixels", "-pixels.json"),
        ("batch", "instances"),
        ("grid client form", "--data-urlencode digit@"),
    ],
)
def test_every_predict_input_form_has_an_example(form: str, marker: str) -> None:
    assert any(marker in e.command and e.name == "predict" for e in curl_examples(TEXT)), form


@pytest.mark.parametrize("endpoint", ["predict/number", "list", "feedback", "feedback/stats", "health"])
def test_every_endpoint_has_an_example(endpoint: str) -> None:
    assert endpoint in {example.name for example in curl_examples(TEXT)}


def test_every_curl_example_shows_the_answer_it_is_checked_against() -> None:
    examples = curl_examples(TEXT)
    assert len(examples) >= 10
    assert all(isinstance(example.expected, dict) for example in examples)


def test_files_the_readme_shows_or_sends_exist() -> None:
    paths = set(re.findall(r"(?:docs|deploy|scripts|ml_server|user_server)/[\w./-]+\.\w+", TEXT))
    missing = sorted(path for path in paths if not (ROOT / path.rstrip(".")).exists())
    assert not missing


def test_architecture_is_a_mermaid_sketch() -> None:
    assert any(language == "mermaid" and "flowchart" in body for language, body in fenced_blocks(TEXT))


def test_the_two_commands_come_first() -> None:
    first_block = fenced_blocks(TEXT)[0][1].splitlines()
    assert first_block[0].startswith("make run ")
    assert first_block[1].startswith("make test ")


def test_readme_says_docker_was_not_run() -> None:
    assert "Docker was **not run**" in TEXT


@pytest.mark.parametrize(
    ("expected", "actual", "result"),
    [
        ({"digit": 7, "confidence": 0.9}, {"digit": 7, "confidence": 0.42, "extra": 1}, True),
        ({"digit": 7}, {"digit": 1}, False),
        ({"digit": 7}, {"error": {"code": "unknown_model"}}, False),
        ({"ok": True}, {"ok": 1}, False),
        ({"items": [{"digit": 7}]}, {"items": [{"digit": 7}, {"digit": 2}]}, False),
    ],
)
def test_answers_are_matched_field_by_field(expected, actual, result: bool) -> None:
    assert matches(expected, actual) is result


def test_model_table_marks_the_default_and_shows_benchmark_latency(tmp_path) -> None:
    (tmp_path / "a.pkl").write_bytes(b"x" * 2**20)
    manifest = {
        "default": "a",
        "models": [
            {"name": "a", "display_name": "Model A", "family": "sklearn", "file": "a.pkl", "metrics": {}},
            {
                "name": "b",
                "display_name": "Model B",
                "family": "keras",
                "file": "b.h5",
                "uncertainty": True,
                "metrics": {"mnist_test_accuracy": 0.99123, "canvas_accuracy": 0.98, "mnist_test_ece": 0.0123},
                "not_a_digit": {"held_out_mean_flagged": 0.9},
            },
        ],
    }
    bench = tmp_path / "benchmarks.json"
    bench.write_text('{"models": {"b": {"p50_ms": 1.234}}}')
    rows = model_table.model_table(manifest, tmp_path, model_table.bench_latencies(bench)).splitlines()[2:]
    assert rows[0].startswith("| Model A (default) | `a` | sklearn | - | - | 1.0 MiB | - | not measured yet |")
    assert (
        rows[1] == "| Model B | `b` | keras | 99.12 % | 98.00 % | missing | Monte-Carlo dropout | 1.2 ms "
        "| 0.0123 / - | 90.00 % |"
    )


def test_readme_without_the_table_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="markers"):
        model_table.with_table("# no markers here\n", "| table |")
