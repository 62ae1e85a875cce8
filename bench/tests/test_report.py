"""The report: tables that line up, and targets judged against the right figures."""

from bench.inprocess import Baseline, Timing
from bench.load import LoadResult
from bench.report import ModelRow, Results, latency_summary, render, table, targets


def load(rps: float, p50: float = 2.0, errors: int = 0, connections: int = 1) -> LoadResult:
    return LoadResult(connections, int(rps * 5), 5.0, errors, 0, p50, p50 * 3)


def results(*, cnn_rps: float = 600, health_rps: float = 1000, number: LoadResult | None = None) -> Results:
    cnn = ModelRow("cnn", "tflite", Timing(0.2, 0.4, 100), Timing(1.1, 2.0, 100), "100.00% of 10000")
    cnn.load = {1: load(cnn_rps / 2, p50=3.0), 8: load(cnn_rps), 32: load(cnn_rps, errors=1)}
    mcd = ModelRow("cnn_mcd", "tflite", Timing(1.0, 2.0, 100))
    mcd.load = {1: load(100, p50=30.0)}
    return Results(
        command="python -m bench",
        machine=[("CPU", "test")],
        default_model="cnn",
        models=[cnn, mcd],
        health={1: load(health_rps / 2), 8: load(health_rps), 32: load(health_rps)},
        number=number,
        number_note="",
        start_to_ready_s=6.0,
        rss_default=600_000_000,
        rss_all=1_600_000_000,
        models_loaded=8,
        worker_restarts=0,
        baselines=[Baseline("cnn: model.predict", Timing(50.0, 60.0, 10), Timing(0.2, 0.3, 100))],
        seconds_per_run=5,
    )


def test_table_columns_line_up():
    lines = table(["a", "longer header"], [["wide cell here", "x"], ["y", "z"]]).splitlines()
    assert len({len(line) for line in lines}) == 1
    assert lines[1].startswith("| ---")


def verdicts(found):
    return {target.figure.split(" (")[0].split(",")[0]: target.verdict for target in found}


def test_targets_pass_and_fail_on_the_measured_figures():
    found = verdicts(targets(results()))
    assert found["/predict throughput"] == "pass"  # peaks 600 / 1000
    assert found["cnn end-to-end p50"] == "pass"
    assert found["cnn in-process model time p50"] == "pass"
    assert found["cnn_mcd end-to-end p50"] == "**FAIL**"  # 30 ms
    assert found["resident memory"] == "**FAIL**"  # 1.6 GB
    assert found["errors at 32 connections"] == "**FAIL**"  # one socket error
    assert found["/predict/number p50"] == "missing"


def test_a_slow_predict_fails_the_ratio():
    assert verdicts(targets(results(cnn_rps=600, health_rps=1000)))["/predict throughput"] == "pass"
    assert verdicts(targets(results(cnn_rps=400, health_rps=1000)))["/predict throughput"] == "**FAIL**"


def test_report_names_the_machine_the_targets_and_every_model():
    text = render(results(number=load(50, p50=12.0)))
    assert "- CPU: test" in text
    assert "| /predict cnn (default)" in text and "| /predict cnn_mcd" in text
    assert "/predict/number" in text and "12.0 / 36.0" in text
    assert "250x" in text  # the baseline's measured ratio


def test_latency_summary_gives_each_models_single_client_latency():
    assert latency_summary(results()) == {
        "models": {"cnn": {"p50_ms": 3.0, "p99_ms": 9.0}, "cnn_mcd": {"p50_ms": 30.0, "p99_ms": 90.0}}
    }
