"""An order exception and a hold reason reach the office console in the reader's language:
the service stores them as a code and parameters (sync.protocol.EXCEPTION_MESSAGES) and the
page words them from the console catalogue; a text without a code stays as it came."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from service.models import Order, OrderException
from service.web import i18n
from tests.integration.console.conftest import Floor, sign_in

GERMAN = {
    "The postcode '{postcode}' is not valid for {country}.": (
        "Die Postleitzahl '{postcode}' ist für {country} nicht gültig."
    ),
    # a stand-in translator who lost a placeholder: the English is shown instead
    "Order {order} was packed with {sku} that the ledger did not have available. "
    "Count the shelf and adjust the stock.": "Bestellung {auftrag} überverkauft.",
}


@pytest.fixture
def german(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in German console catalogue: the shipped template, these sentences translated."""
    with (i18n.LOCALE_DIR / "console.pot").open("rb") as f:
        catalog = read_po(f, locale="de")
    for english, german in GERMAN.items():
        assert english in catalog, "run `python -m service.web.i18n extract`"
        catalog[english].string = german
    with (tmp_path / "de.po").open("wb") as f:
        write_po(f, catalog)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", page)).split())


def test_a_german_reader_reads_the_exception_in_german(
    app_client: TestClient, floor: Floor, german: None, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s, s.begin():
        order = s.get_one(Order, floor.held_id)
        number = order.number
        s.add(  # a person's note is data: shown as typed, in any language
            OrderException(
                order_id=order.id, kind="hold", code="other", message="Kunde ruft an", details={}
            )
        )
        s.add(  # an exception whose template the (stand-in) translation broke
            OrderException(
                order_id=order.id,
                kind="stock",
                code="oversold",
                message=f"Order {number} was packed with MUG that the ledger did not have "
                "available. Count the shelf and adjust the stock.",
                details={"say": {"code": "oversold", "params": {"order": number, "sku": "MUG"}}},
            )
        )
    sign_in(app_client, "admin")
    app_client.headers["Accept-Language"] = "de-DE,de;q=0.9"
    german_sentence = "Die Postleitzahl '1011' ist für DE nicht gültig."
    english_sentence = "The postcode '1011' is not valid for DE."
    queue = _text(app_client.get("/console/exceptions").text)
    assert german_sentence in queue and english_sentence not in queue
    assert "Kunde ruft an" in queue
    assert f"Order {number} was packed with MUG" in queue  # the English, not a broken German
    order_page = _text(app_client.get(f"/console/orders/{floor.held_id}").text)
    # the hold reason, the open exception and the timeline's hold event
    assert order_page.count(german_sentence) >= 2 and english_sentence not in order_page

    app_client.headers["Accept-Language"] = "en"
    queue = _text(app_client.get("/console/exceptions").text)
    assert english_sentence in queue and german_sentence not in queue
