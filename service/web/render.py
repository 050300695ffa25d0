"""Jinja2 pages of the console: autoescaped templates, the signed-in user in every page."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from service.office.accounts import OfficeRole, may
from service.office.sessions import SignedIn
from service.web import i18n
from service.web.exception_texts import exception_words, reason_words

HERE = Path(__file__).parent
ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
ENV.install_gettext_callables(i18n.gettext_, i18n.ngettext_, newstyle=True)  # type: ignore[attr-defined]


def _when(value: datetime | None) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


def _fact(value: Any) -> str:
    """An audit detail in words: dicts as `key value`, lists comma-separated, no empties."""
    if isinstance(value, dict):
        return ", ".join(f"{k} {_fact(v)}" for k, v in value.items() if v not in (None, "", [], {}))
    if isinstance(value, list | tuple):
        return ", ".join(_fact(v) for v in value)
    return str(value)


ENV.filters["when"] = _when
ENV.filters["fact"] = _fact
ENV.filters["exception_words"] = exception_words
ENV.filters["reason_words"] = reason_words
ENV.globals["Role"] = OfficeRole
ENV.globals["may"] = may


def page(
    request: Request,
    template: str,
    who: SignedIn | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render one page (never cached: it shows customer data), in the reader's language."""
    chosen = who.language if who is not None and who.language else None
    lang = i18n.use(chosen or i18n.from_browser(request.headers.get("accept-language", "")))
    html = ENV.get_template(template).render(
        request=request, who=who, lang=lang, languages=i18n.available(), **context
    )
    return HTMLResponse(
        html,
        status_code=status_code,
        headers={
            "Cache-Control": "no-store",
            "Content-Language": lang,
            "Vary": "Accept-Language, Cookie",
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Content-Security-Policy": (
                "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                "script-src 'self'; form-action 'self'; frame-ancestors 'none'"
            ),
        },
    )
