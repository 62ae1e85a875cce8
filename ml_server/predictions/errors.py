"""Errors of the prediction service that carry their HTTP status (MLServer's habit)."""

from __future__ import annotations

from core.errors import ApiError


class UnknownModelError(ApiError):
    """No model of that name is in the manifest (any non-string or path-like name is simply unknown)."""

    status_code = 404
    code = "unknown_model"


class ModelUnavailableError(ApiError):
    """The model is listed but its file is missing, corrupt or fails its sha256: only it is out of service."""

    status_code = 503
    code = "model_unavailable"
