"""Checks on untrusted request bodies before they become objects: nesting and NUL characters.

PostgreSQL cannot store a NUL character in text, and Python's JSON parser and serialiser
fail with RecursionError near 1,000 levels of nesting: both were 500s. Here they are a
clear 4xx before any handler runs. The common case costs two C-speed scans of the bytes.
"""

from __future__ import annotations

import json
import re
from typing import Any

from service.errors import ServiceError
from service.limits import MAX_JSON_DEPTH

# A JSON string, or an unterminated one up to the end: it matches wherever a quote starts,
# possessively, so every byte is read once (a quadratic rescan was a denial of service).
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_NUL_ESCAPE = re.compile(rb"\\u0000", re.IGNORECASE)
_OPEN = frozenset(b"[{")


class InputRefused(ServiceError):
    """A value no honest client sends (a NUL character, absurd nesting); nothing was done."""

    code = "invalid_input"
    http_status = 422


class TooDeep(InputRefused):
    """JSON nested deeper than MAX_JSON_DEPTH."""

    code = "malformed_body"
    http_status = 400


def nesting_depth(body: bytes, stop_at: int = MAX_JSON_DEPTH) -> int:
    """How deeply arrays and objects nest in a JSON text (stops counting past `stop_at`)."""
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b'""', body))
    depth = deepest = 0
    for byte in brackets:
        if byte in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_at:
                    break
        else:
            depth -= 1
    return deepest


def _nul_path(value: Any, path: str) -> str | None:
    """The dotted path of the first string (or key) holding a NUL character, if any."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items: list[tuple[Any, Any]]
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return None
    for key, child in items:
        here = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and "\x00" in key:
            return here
        found = _nul_path(child, here)
        if found is not None:
            return found
    return None


def check_body(body: bytes) -> None:
    """Refuse a body with a NUL character or (for JSON) nesting over MAX_JSON_DEPTH."""
    if b"\x00" in body:
        raise InputRefused("The request contains a NUL character.", field="body")
    if body.lstrip()[:1] not in (b"{", b"["):
        return
    # Depth never exceeds the number of opening brackets (in strings or not): two C-speed
    # counts clear a common body without stripping its strings.
    if (
        body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH
        and nesting_depth(body) > MAX_JSON_DEPTH
    ):
        raise TooDeep(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.", field="body")
    if _NUL_ESCAPE.search(body) is None:
        return
    try:
        document = json.loads(body)
    except ValueError:
        return  # not valid JSON: the handler's own parser says so
    path = _nul_path(document, "")
    if path is not None:
        raise InputRefused(f"{path or 'body'}: contains a NUL character.", field=path or "body")


def check_query(query_string: bytes, path: str) -> None:
    """Refuse a NUL character in the URL path or its query string."""
    if "\x00" in path:
        raise InputRefused("The URL contains a NUL character.", field="path")
    if b"%00" in query_string or b"\x00" in query_string:
        raise InputRefused("The query string contains a NUL character.", field="query")
