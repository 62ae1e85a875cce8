"""The in-process breakdown runs against the real WSGI application and prints one row per stage."""

from __future__ import annotations

import re

from bench.breakdown import main


def test_each_stage_gets_a_timed_row(capsys):
    assert main(["--seconds", "0.05"]) == 0
    rows = [
        line
        for line in capsys.readouterr().out.splitlines()
        if re.search(r"\d+\.\d{3}\s+\d+\.\d{3}\s+\d+\.\d{3}\s+\d+$", line)
    ]
    assert [row.split("  ")[0] for row in rows] == [
        "/health",
        "/predict, canvas PNG upload (cnn)",
        "/predict, phone canvas 840x840 upload (cnn)",
        "/predict, preprocessing replaced by its result",
        "/predict, and the model and not-a-digit signals too",
        "normalize_digit_image(PNG bytes) alone",
        "decode_image(PNG bytes) alone",
        "normalize_digit_image(phone PNG) alone",
        "decode_image(phone PNG) alone",
    ]
    assert all(float(row.split()[-3]) > 0 for row in rows)
