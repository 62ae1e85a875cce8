"""The heap trim reaches glibc's malloc_trim where the C library is glibc (Linux, Debian images)."""

import platform

import pytest

from digits.heap import release_free_heap


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_free_heap_pages_are_handed_back_through_glibc():
    garbage = [bytearray(4096) for _ in range(20_000)]  # ~80 MiB of small blocks on the heap
    del garbage
    assert release_free_heap() is True
