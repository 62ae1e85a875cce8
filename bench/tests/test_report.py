"""The report: tables that line up, and targets judged against the right figures."""

from bench.inprocess import Timing
from bench.load import LoadResult
from bench.report import ModelRow, Results, Side, latency_summary, render, table, targets


def load(rps: float, p50: float = 2.0, errors: int = 0, connections: int = 1) -> LoadResult:
    return LoadResult(connections, int(rps * 5), 5.0, errors, 0, p50, p50 * 3)


def results(*, cnn_rps: float = 600, peer_rps: float = 500, number: LoadResult | None = None) -> Results:
    cnn = ModelRow("cnn", "litert", Timing(0.2, 0.4, 100))
    cnn.load = {1: load(cnn_rps / 2, p50=2.0), 8: load(cnn_rps), 32: load(cnn_rps, errors=1)}
    mcd = ModelRow("cnn_mcd", "litert", Timing(1.0, 2.0, 100))
    mcd.load = {1: load(100, p50=30.0)}
    return Results(
        command="python -m bench",
        machine=[("CPU", "test")],
        workers=2,
        default_model="cnn",
        models=[cnn, mcd],
        project=Side(cnn.load, {1: load(500), 8: load(1000), 32: load(1000)}, 3.0),
        peer=Side({c: load(peer_rps) for c in (1, 8, 32)}, {c: load(2000) for c in (1, 8, 32)}, 2.0),
        front=Side(
            {1: load(250), 8: load(cnn_rps * 0.9), 32: load(cnn_rps * 0.9)}, {c: load(900) for c in (1, 8, 32)}, 3.6
        ),
        front_connections_per_client=64,
        one_worker_rps8=cnn_rps / 1.8,
        number=number,
        number_note="",
        phone_upload=load(80, p50=6.0),
        start_to_ready_s=1.2,
        cpu_to_ready_s=0.9,
        worker_rss_all=250 * 2**20,
        models_loaded=8,
        tensorflow_loaded=False,
        worker_restarts=0,
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
    assert found["/predict req/s @8"] == "pass"  # 600 / 500
    assert found["start to /ready"] == "pass"
    assert found["cnn end-to-end p50"] == "pass"
    assert found["cnn_mcd end-to-end p50"] == "**FAIL**"  # 30 ms
    assert found["resident memory per worker"] == "**FAIL**"  # 250 MiB
    assert found["errors at 32 connections"] == "**FAIL**"  # one socket error
    assert found["TensorFlow imported by the API"] == "pass"
    assert found["/predict/number p50"] == "missing"


def test_the_peer_ratio_and_the_scaling_ratio_are_judged_at_8_connections():
    found = [t for t in targets(results(cnn_rps=400, peer_rps=500)) if t.figure.startswith("/predict req/s @8")]
    assert [(t.measured, t.verdict) for t in found] == [("0.80", "**FAIL**"), ("1.80", "pass")]


def test_report_names_the_machine_the_targets_the_peer_and_every_model():
    text = render(results(number=load(50, p50=12.0)))
    assert "- CPU: test" in text
    assert "| /predict cnn (default)" in text and "| /predict cnn_mcd" in text
    assert "/predict/number" in text and "12.0 / 36.0" in text
    assert "## Against the minimal peer" in text and "1.50" in text  # CPU per request 3.0 / 2.0
    assert "phone upload" in text


def test_the_front_is_set_beside_the_direct_figures_and_the_peer():
    text = render(results(cnn_rps=600, peer_rps=500))
    front = text.split("## Through the nginx front")[1].split("## Per endpoint")[0]
    assert "| /predict cnn, page upload req/s @8 " in front and "| /health req/s @32 " in front
    assert "| 540 " in front and "| 600 " in front and "| 0.90 " in front  # 540 / 600 req/s @8
    assert "| 1.20 " in front  # CPU per request 3.6 / 3.0
    assert "through the front / the peer (which has no front): **1.08**" in front  # 540 / 500
    assert "raised to 64 for these runs" in " ".join(front.split())


def test_latency_summary_gives_each_models_single_client_latency():
    assert latency_summary(results()) == {
        "models": {"cnn": {"p50_ms": 2.0, "p99_ms": 6.0}, "cnn_mcd": {"p50_ms": 30.0, "p99_ms": 90.0}}
    }
