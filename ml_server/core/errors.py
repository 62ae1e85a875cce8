"""One error type for the whole API and one DRF handler, so every error has the contract's shape:
`{"error": {"code": "<snake_case>", "message": "<for a person>"}}` with a 4xx status."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error a client can act on: it knows its HTTP status and its contract code."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def error_response(code: str, message: str, status_code: int, headers: dict[str, str] | None = None) -> Response:
    """The contract's error as a DRF response; `error_code` lets the metrics count errors by code."""
    response = Response(error_body(code, message), status=status_code, headers=headers)
    response.error_code = code
    return response


def json_error(code: str, message: str, status_code: int) -> JsonResponse:
    """The same error for plain Django code paths (middleware, URL-level handlers)."""
    response = JsonResponse(error_body(code, message), status=status_code)
    response.error_code = code
    return response


# Django's own error pages (handler400/403/404/500 in config.urls): JSON, never HTML. Django passes
# `request` and `exception` by keyword, so the names stay even where unused.
def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:  # noqa: ARG001
    return json_error("invalid_request", "Bad request.", 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:  # noqa: ARG001
    return json_error("permission_denied", "Permission denied.", 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:  # noqa: ARG001
    return json_error("not_found", f"No endpoint at {request.path[:200]}; see /docs.", 404)


def server_error(request: HttpRequest) -> JsonResponse:  # noqa: ARG001
    return json_error("internal_error", "The server failed to answer; the error is logged.", 500)


_DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ParseError: "invalid_request",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotFound: "not_found",
    exceptions.Throttled: "throttled",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.ValidationError: "invalid_request",
}


def api_exception_handler(exc: Exception, _context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: map every known error to the contract's JSON; others stay 500s
    (logged with their cause by Django, never shown to the client)."""
    if isinstance(exc, ApiError):
        return error_response(exc.code, exc.message, exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return error_response("too_large", "The request body is larger than the 5 MB limit.", 413)
    if isinstance(exc, Http404):
        return error_response("not_found", "Not found.", 404)
    if isinstance(exc, PermissionDenied):
        return error_response("permission_denied", "Permission denied.", 403)
    if isinstance(exc, exceptions.APIException):
        code = next((c for kind, c in _DRF_CODES.items() if isinstance(exc, kind)), "invalid_request")
        headers = {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait) + 1)
        return error_response(code, _message(exc), exc.status_code, headers)
    return None


def _message(exc: exceptions.APIException) -> str:
    detail = exc.detail
    if isinstance(detail, dict):
        return "; ".join(f"{field}: {_flatten(value)}" for field, value in detail.items())
    return _flatten(detail)


def _flatten(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(_flatten(item) for item in value)
    return str(value)
