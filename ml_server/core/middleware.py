"""Middleware that protects the service before any view runs."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from core.errors import json_error


class BodySizeLimitMiddleware:
    """Refuse bodies over `MAX_BODY_BYTES` from their Content-Length, before a byte is read.

    A body sent without Content-Length is never read by Django beyond what the header promised,
    so the header is the whole decision."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error("invalid_request", "The Content-Length header is not a number.", 400)
        if length > settings.MAX_BODY_BYTES:
            limit_mb = settings.MAX_BODY_BYTES / (1024 * 1024)
            response = json_error("too_large", f"The request body is larger than the {limit_mb:g} MB limit.", 413)
            response["Connection"] = "close"  # the unread body must not be taken for the next request
            return response
        return self.get_response(request)
