"""The slow-clients report's rows, including a run too short for the front to cut anyone."""

from bench.slow_clients import row
from testsupport.slow_clients import Latencies


def test_a_row_reports_when_the_last_slow_connection_was_cut_and_how_many_were():
    served = Latencies(seconds=[0.010, 0.020, 0.030], statuses=[200, 200, 503])

    line = row("ml_server", "attacked", served, {"half_open": [5.0, 5.2], "trickling": []}, 20.0)

    cells = [cell.strip() for cell in line.strip("|").split("|")]
    assert cells[:4] == ["ml_server", "attacked", "3", "1"]
    assert cells[7] == "5.2 s (2) / none cut (0)"
    assert cells[8] == "20.0"
