import numpy as np
import pytest

from digits.arraycodec import decode_array, encode_array


def test_arrays_round_trip_at_float16_precision():
    values = np.random.default_rng(0).normal(size=(3, 5))
    decoded = decode_array(encode_array(values))
    assert decoded.dtype == np.float32 and decoded.shape == (15,)
    np.testing.assert_allclose(decoded, values.ravel(), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("text", ["not base64!", "AAAA", 12])
def test_text_that_is_not_float16_base64_is_a_value_error(text):
    with pytest.raises(ValueError):
        decode_array(text)
