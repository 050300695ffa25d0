"""Typed service errors. The API layer turns each into a JSON body with a clear message."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: `code` is machine-readable, the message is for a person."""

    code = "service_error"
    http_status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(ServiceError):
    code = "not_found"
    http_status = 404


class Conflict(ServiceError):
    code = "conflict"
    http_status = 409


class IllegalTransition(Conflict):
    """An order status change the lifecycle does not allow; nothing was changed."""

    code = "illegal_transition"


class ValidationFailed(ServiceError):
    code = "validation_failed"
    http_status = 422


class Unauthorized(ServiceError):
    code = "unauthorized"
    http_status = 401


def unknown_station() -> Unauthorized:
    """What a request with a token no enrolled station has gets back."""
    return Unauthorized("Unknown station token: enroll this station again.")


class Forbidden(ServiceError):
    code = "forbidden"
    http_status = 403
