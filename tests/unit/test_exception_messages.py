"""Order exceptions travel as a code and parameters (sync.protocol.EXCEPTION_MESSAGES): the
station's and the console's tables say the same sentences, and every place in the service
that opens an exception passes exactly the parameters its sentence names."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from string import Formatter

import pytest

from app.i18n import PSEUDO, render
from app.station.exception_texts import EXCEPTIONS as STATION
from app.station.exception_texts import exception_text
from service.ingest.validate import address_reasons, exception_params, unknown_sku_reasons
from service.web.exception_texts import EXCEPTIONS as CONSOLE
from sync.protocol import EXCEPTION_MESSAGES, exception_say, exception_words

ROOT = Path(__file__).resolve().parents[2]


def _names(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


def test_station_and_console_say_the_services_sentences() -> None:
    assert STATION == EXCEPTION_MESSAGES
    assert {code: str.__str__(text) for code, text in CONSOLE.items()} == EXCEPTION_MESSAGES


def _code(node: ast.expr, module: str) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):  # a module constant (UNPACK_CODE, ADDRESS_MISSING)
        value = getattr(importlib.import_module(module), node.id, None)
        return value if isinstance(value, str) else None
    return None


def _sites() -> list[tuple[str, str, set[str]]]:
    """(where, code, parameter names) for every exception sentence the service fills in."""
    found: list[tuple[str, str, set[str]]] = []
    for path in sorted((ROOT / "service").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in ("exception_words", "_reason") and node.args:
                    code = _code(node.args[0], module)
                    named = {k.arg for k in node.keywords if k.arg is not None}
                    if code is not None and all(k.arg is not None for k in node.keywords):
                        found.append((where, code, named))
                words = {k.arg: k.value for k in node.keywords}
                if isinstance(words.get("params"), ast.Lambda) and "code" in words:
                    body = words["params"].body  # type: ignore[attr-defined]
                    code = _code(words["code"], module)
                    if code is not None and isinstance(body, ast.Dict):
                        keys = {k.value for k in body.keys if isinstance(k, ast.Constant)}
                        found.append((where, code, keys))  # type: ignore[arg-type]
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                target = node.targets[0]
                if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Tuple):
                    code = _code(target.slice.elts[-1], module)
                    if code is not None and code in EXCEPTION_MESSAGES:
                        keys = {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
                        found.append((where, code, keys))  # type: ignore[arg-type]
    return found


def test_every_site_passes_the_parameters_its_sentence_names() -> None:
    sites = _sites()
    wrong = [
        (where, code, sorted(named), sorted(_names(EXCEPTION_MESSAGES.get(code, ""))))
        for where, code, named in sites
        if code not in EXCEPTION_MESSAGES or named != _names(EXCEPTION_MESSAGES[code])
    ]
    assert wrong == []
    # the five carrier-rule codes are filled by one call with the problem's own code
    unused = set(EXCEPTION_MESSAGES) - {code for _, code, _ in sites}
    assert unused == {
        "pickup_point_missing",
        "pickup_point_unsupported",
        "cod_over_limit",
        "cod_not_offered",
        "phone_missing",
    }


def test_a_hold_reason_carries_its_parameters_into_the_exception() -> None:
    (sku,) = unknown_sku_reasons(["GHOST-1"])
    assert sku["message"] == "No active product has the SKU 'GHOST-1'."
    said = exception_params(sku)["say"]
    assert said == {"code": "unknown_sku", "params": {"sku": "GHOST-1"}}
    assert exception_say({"say": said}) == ("unknown_sku", {"sku": "GHOST-1"})
    assert exception_params(address_reasons(None)[0]) == {
        "say": {"code": "address_missing", "params": {}}
    }
    # a reason stored before parameters existed, or a code with no sentence: no `say`
    assert exception_params({"code": "unknown_sku", "message": "old words"}) == {}
    assert exception_params({"code": "new_thing", "message": "x"}) == {}


@pytest.mark.parametrize("code", sorted(EXCEPTION_MESSAGES))
def test_the_station_words_each_code_in_the_readers_language(code: str) -> None:
    params = {name: f"P{i}" for i, name in enumerate(sorted(_names(EXCEPTION_MESSAGES[code])))}
    english, say = exception_words(code, **params)
    text = exception_text(say, english)
    assert render(text, "en") == english
    pseudo = render(text, PSEUDO)
    assert pseudo != english and all(value in pseudo for value in params.values())


def test_an_unknown_code_or_a_missing_parameter_shows_the_english() -> None:
    assert exception_text(None, "A person's note.") == "A person's note."
    assert exception_text({"code": "brand_new", "params": {}}, "New.") == "New."
    assert exception_text({"code": "oversold", "params": {"order": "7"}}, "Eng.") == "Eng."
    assert exception_say({"say": {"code": "oversold", "params": {"order": "7"}}}) is None


def test_a_packers_hold_without_a_note_reads_as_its_reason() -> None:
    """The service words a note-less hold as the bare code ("damaged item"); the station says
    the reason in the reader's words, and a typed note stays as typed."""
    text = exception_text(None, "damaged item", kind="hold", code="damaged_item")
    assert render(text, "en") == "damaged item" and render(text, PSEUDO) != "damaged item"
    assert exception_text(None, "box crushed", kind="hold", code="damaged_item") == "box crushed"
