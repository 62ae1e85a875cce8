"""One rule for the client's address (throttling, admin lockout, request log): X-Forwarded-For counts
only as far as NUM_PROXIES trusted proxies vouch for it."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from core.client import client_address

SPOOFED = "203.0.113.9, 127.0.0.9"  # what the client claimed, then what the front saw


@pytest.mark.parametrize(
    ("num_proxies", "expected"),
    [(0, "127.0.0.1"), (1, "127.0.0.9"), (2, "203.0.113.9")],
)
def test_forwarded_addresses_count_only_from_trusted_proxies(settings, num_proxies: int, expected: str) -> None:
    request = RequestFactory().get("/health", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=SPOOFED)
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}):
        assert client_address(request) == expected


def test_without_a_forwarded_header_the_peer_is_the_client(settings) -> None:
    request = RequestFactory().get("/health", REMOTE_ADDR="127.0.0.3")
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}):
        assert client_address(request) == "127.0.0.3"
