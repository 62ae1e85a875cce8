"""Which client sent a request, by one rule for throttling, the admin lockout and the request log."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle

_DRF_RULE = BaseThrottle()


def client_address(request: HttpRequest) -> str:
    """DRF's rule: `REMOTE_ADDR`, or with NUM_PROXIES trusted proxies in front the X-Forwarded-For entry
    the nearest of them added, so a client cannot choose its own address by sending that header."""
    return _DRF_RULE.get_ident(request)
