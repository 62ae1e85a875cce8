"""TensorFlow's native chatter is dropped while a model loads; anything else written meanwhile is kept."""

from __future__ import annotations

import os

from digits.native_logs import native_chatter_filtered

CHATTER = [
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    b"I0000 00:00:1795823424.663758   13567 port.cc:153] oneDNN custom operations are on.\n",
    b"E0000 00:00:1795823440.025233   13798 node_def_util.cc:682] NodeDef mentions attribute Truncate\n",
    b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n",
    b"Assets written to: /tmp/tmp95firas8/assets\n",
]


def test_chatter_is_dropped_and_other_lines_are_passed_on(capfd):
    with native_chatter_filtered():
        for line in CHATTER[:2]:
            os.write(2, line)
        os.write(2, b'{"path": "/predict", "status": 200}\n')
        for line in CHATTER[2:]:
            os.write(2, line)
        os.write(2, b"Traceback (most recent call last): a real problem\n")

    kept = '{"path": "/predict", "status": 200}\nTraceback (most recent call last): a real problem\n'
    assert capfd.readouterr().err == kept


def test_descriptor_2_is_restored_even_when_the_body_fails(capfd):
    try:
        with native_chatter_filtered():
            raise RuntimeError("load failed")
    except RuntimeError:
        pass
    os.write(2, b"after\n")

    assert capfd.readouterr().err == "after\n"
