"""The wrk side of the benchmark: the request it sends and the figures it reads back."""

from email.parser import BytesParser
from email.policy import HTTP

import pytest

from bench.load import MARKER, Request, lua_script, multipart_body, parse_wrk_output

FIGURES = (
    '{"requests": 2000, "duration_us": 5000000, "connect": 0, "read": 1, "write": 0, "status": 3, "timeout": 2,'
    ' "p50_us": 2900, "p99_us": 12500, "mean_us": 3100.0}'
)
WRK_OUTPUT = f"""Running 5s test @ http://127.0.0.1:8001/predict
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.10ms    1.20ms  40.00ms   90.00%
  2000 requests in 5.00s, 1.20MB read
  Non-2xx or 3xx responses: 3
Requests/sec:    400.00
{MARKER}{FIGURES}
"""


def test_wrk_figures_are_read_from_the_done_line():
    result = parse_wrk_output(WRK_OUTPUT, connections=8)
    assert result.throughput == 400.0
    assert (result.p50_ms, result.p99_ms) == (2.9, 12.5)
    assert (result.socket_errors, result.status_errors, result.errors) == (3, 3, 6)


def test_output_without_figures_is_an_error_not_zeros():
    with pytest.raises(RuntimeError, match="no figures"):
        parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused", connections=1)


def test_multipart_body_carries_the_png_and_the_model_intact():
    png = bytes(range(256)) * 4  # every byte value, CRLFs and dashes included
    body = multipart_body({"model": "cnn_mcd"}, {"image": ("canvas.png", "image/png", png)}, "b0und")
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: multipart/form-data; boundary=b0und\r\n\r\n" + body)
    parts = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
    assert parts["model"].get_content() == "cnn_mcd"
    assert parts["image"].get_content_type() == "image/png"
    assert parts["image"].get_payload(decode=True) == png


def test_post_script_reads_the_body_file_and_sets_the_content_type(tmp_path):
    script = lua_script(Request("/predict", "POST", tmp_path / "a.body", "multipart/form-data; boundary=x"))
    assert 'wrk.method = "POST"' in script
    assert f'io.open("{tmp_path / "a.body"}", "rb")' in script
    assert 'wrk.headers["Content-Type"] = "multipart/form-data; boundary=x"' in script
    assert "done = function" in script and MARKER in script


def test_get_script_sends_no_body():
    script = lua_script(Request("/health"))
    assert 'wrk.method = "GET"' in script and "wrk.body" not in script
