"""Typed ingestion errors; the API turns each into a 4xx naming the offending field."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from service.errors import NotFound, ServiceError, Unauthorized


class PayloadInvalid(ServiceError):
    """The payload is well-formed JSON but a field is missing or absurd; nothing was stored."""

    code = "invalid_payload"
    http_status = 422


class MalformedBody(ServiceError):
    """The body is not JSON (or not an object); nothing was stored."""

    code = "malformed_body"
    http_status = 400


class SignatureInvalid(Unauthorized):
    """The webhook signature is missing or does not match the channel's secret."""

    code = "invalid_signature"


class ChannelNotFound(NotFound):
    """No channel of that kind and name is configured."""

    code = "unknown_channel"


def field_path(loc: tuple[int | str, ...]) -> str:
    """("line_items", 0, "quantity") -> "line_items[0].quantity", as the shop names it."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def from_validation_error(exc: ValidationError, *, prefix: str = "") -> PayloadInvalid:
    """The first pydantic error as a PayloadInvalid that names the field and the problem."""
    first: dict[str, Any] = dict(exc.errors()[0]) if exc.errors() else {}
    loc = tuple(first.get("loc", ()))
    path = field_path(loc) or "body"
    if prefix:
        path = f"{prefix}.{path}" if path != "body" else prefix
    msg = str(first.get("msg", "invalid value"))
    return PayloadInvalid(f"{path}: {msg}", field=path)
