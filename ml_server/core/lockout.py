"""What a locked-out admin login gets: the contract's JSON error, with when to try again."""

from __future__ import annotations

import logging
from typing import Any

from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse

from core.client import client_address
from core.errors import json_error

logger = logging.getLogger("ml_server.security")


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """django-axes' AXES_LOCKOUT_CALLABLE: 429 `locked_out` with Retry-After, and one log line that says who."""
    del original_response  # axes passes the login view's answer; the lockout replaces it
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    username = str((credentials or {}).get("username") or request.POST.get("username", ""))[:150]
    logger.warning("admin login locked out: user %r from %s for %d s", username, client_address(request), seconds)
    response = json_error("locked_out", f"Too many failed logins; try again in {seconds} seconds.", 429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
