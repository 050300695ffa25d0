"""The request-body checks: nesting depth and NUL characters, exact and linear in the size."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.json_checks import InputRefused, TooDeep, check_body, nesting_depth
from service.limits import MAX_JSON_DEPTH

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@given(JSON)
def test_depth_matches_the_parsed_document_whatever_the_strings_hold(value: object) -> None:
    assert nesting_depth(json.dumps(value).encode()) == _depth(value)


def test_brackets_and_escaped_quotes_inside_strings_do_not_count() -> None:
    assert nesting_depth(b'{"a": "[[[{\\"", "b": [[1]]}') == 3


@pytest.mark.parametrize(
    "body",
    [
        b'["' + b'\\"' * 400_000,  # one unterminated string of escaped quotes
        b'"\\' * 400_000,
        b'["' * 400_000,
        b"[" * 1_000_000,
    ],
)
def test_a_hostile_megabyte_is_checked_in_linear_time(body: bytes) -> None:
    started = time.perf_counter()
    nesting_depth(body)
    assert time.perf_counter() - started < 2.0  # a quadratic scan took minutes


def test_nul_characters_are_refused_with_their_path() -> None:
    with pytest.raises(InputRefused) as raw:
        check_body(b'{"a": "x\x00"}')
    assert raw.value.field == "body"
    with pytest.raises(InputRefused) as escaped:
        check_body(json.dumps({"lines": [{"sku": "A"}, {"sku": "B\x00"}]}).encode())
    assert escaped.value.field == "lines.1.sku"
    check_body(json.dumps({"note": "a literal \\u0000 typed as text"}).encode())  # not a NUL


def test_deep_json_is_refused_and_the_limit_itself_is_not() -> None:
    at_limit = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    check_body(at_limit)
    with pytest.raises(TooDeep):
        check_body(b"[" + at_limit + b"]")
    check_body(b"tracking_number,status\nX,[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n")  # not JSON
