"""One structured (JSON) log line per request, tied to a request id the client gets back. It is
the service's access log: written at INFO (shown when ACCESS_LOG is on), server errors at ERROR.

The id is the client's `X-Request-ID` when it is a sane token (so a proxy's id follows the request
through), else a fresh one. An exception a view did not handle is logged here with its stack trace
and the request id, and the client gets only the contract's `internal_error`. The line costs one
`json.dumps` and one log call; nothing else is read or written."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

from core.errors import server_error

logger = logging.getLogger("ml_server.requests")

REQUEST_ID_HEADER = "X-Request-ID"
# Exceptions Django itself turns into 4xx answers: left to it.
CLIENT_ERRORS = (Http404, PermissionDenied, BadRequest, SuspiciousOperation, MultiPartParserError)
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def request_id_of(request: HttpRequest) -> str:
    """The incoming id if it is a short plain token (nothing that could forge log lines), else a new one."""
    incoming = request.META.get("HTTP_X_REQUEST_ID", "")
    return incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


class RequestLogMiddleware:
    """Outermost middleware: times the whole request and writes its line once the answer is known."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request.request_id = request_id = request_id_of(request)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        response._has_been_logged = True  # this line replaces Django's own "Bad Request: /path" warning
        line = {
            "request_id": request_id,
            "method": request.method,
            "path": request.path[:200],
            "status": response.status_code,
            "model": getattr(response, "metrics_model", None),
            "latency_ms": round((time.perf_counter() - started) * 1000, 3),
        }
        error = getattr(request, "unhandled_error", None)
        if error is not None:
            line["error"] = type(error).__name__
            logger.error(json.dumps(line), exc_info=error)
        elif response.status_code >= 500:  # logged even with ACCESS_LOG off (settings.LOGGING)
            logger.error(json.dumps(line))
        else:
            logger.info(json.dumps(line))
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view's unhandled exception: kept for the log line (with its trace), answered as a JSON 500."""
        if isinstance(exception, CLIENT_ERRORS):
            return None
        request.unhandled_error = exception
        return server_error(request)
