"""The pack session says everything through the catalogue, and records the same events in
every language.

The pseudo-locale renders each catalogue sentence with accented letters, so a plain ASCII
letter left in a rendered message (outside the order's own data: product names, codes, the
weights' units) is a word that skipped the catalogue.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from app import i18n
from app.i18n import Text
from app.packing.errors import PackingError
from app.packing.events import PackEvent
from app.packing.step import Step
from app.scanning.scan import ScanKind
from sync.protocol import HoldReason

from .factories import (
    MIXED_ORDER,
    MUG_GTIN13,
    PHONE_GTIN14,
    SPARE_GTIN13,
    TOWEL_GTIN8,
    Station,
    kind,
    product,
)

#: What the order and the scans bring, shown as is in every language.
DATA = (
    "Blue Mug",
    "Tea Towel",
    "Phone X",
    "SN-4471-AB",
    "XX12",
    "ORD-2002",
    "PB:CLOSE",
    "PB:NEW-BOX",
    "PB:REPRINT",
    "PB:REWEIGH",
    "PB:FROBNICATE",
    "ZZ-NOT-A-CODE",
    "'XL'",
    "S, M, L, MAILER",  # the box catalogue
)
#: A formatted weight: "1,10 kg", "350 g" (units are symbols, not words).
WEIGHT = re.compile(r"\d[\d.,]*\u00a0k?g")
ASCII_LETTER = re.compile(r"[A-Za-z]+")
PSEUDO_LETTERS = set("àƀçđéƒĝĥîĵķĺɱñöþǫŕšţûṽŵẋýž")


def untranslated(text: Text) -> list[str]:
    """The ASCII words left in `text` rendered in the pseudo-locale, data taken out."""
    shown = i18n.render(text, i18n.PSEUDO)
    for value in sorted(DATA, key=len, reverse=True):
        shown = shown.replace(value, " ")
    shown = WEIGHT.sub(" ", shown)
    return ASCII_LETTER.findall(shown)


def pack_everything() -> tuple[list[Text], list[PackEvent]]:
    """Every kind of answer the session gives while packing and holding two orders."""
    said: list[Text] = []
    station = Station()

    def step(action: Callable[[], Step]) -> None:
        try:
            said.append(action().message)
        except PackingError as error:
            said.append(error.message)

    step(lambda: station.open(MIXED_ORDER))
    step(lambda: station.scan(product("ZZ-NOT-A-CODE")))  # unknown
    step(lambda: station.scan(product(SPARE_GTIN13)))  # not in this order
    step(lambda: station.scan(kind("XX12", ScanKind.INVALID, "")))  # unreadable
    step(lambda: station.scan(kind("ORD-2002", ScanKind.ORDER)))  # another order
    step(lambda: station.scan(kind("PB:FROBNICATE", ScanKind.COMMAND)))
    step(lambda: station.scan(kind("PB:CLOSE", ScanKind.COMMAND)))  # items missing
    step(lambda: station.scan(kind("PB:REWEIGH", ScanKind.COMMAND)))  # nothing weighed
    step(lambda: station.scan_text(MUG_GTIN13))
    step(lambda: station.scan_text(MUG_GTIN13))
    step(lambda: station.scan_text(MUG_GTIN13))  # over-scan
    step(lambda: station.scan_text(PHONE_GTIN14))  # asks for the serial
    step(lambda: station.scan(kind("ORD-2002", ScanKind.ORDER)))  # not a serial
    step(lambda: station.scan(product("XX12")))  # too short for a serial
    step(lambda: station.scan(product("SN-4471-AB")))
    step(lambda: station.weigh(800))  # items still missing
    step(lambda: station.session.new_box())
    step(lambda: station.session.cancel())  # the box is open again
    step(lambda: station.scan_text(TOWEL_GTIN8))  # all scanned
    step(lambda: station.scan_text(TOWEL_GTIN8))  # over-scan
    step(lambda: station.close())  # not weighed
    step(lambda: station.weigh(0))
    step(lambda: station.weigh(3000))  # too heavy
    step(lambda: station.session.override(9, "x"))  # reason too short
    step(lambda: station.do(station.session.override(9, "scale checked")))
    step(lambda: station.scan(kind("PB:REPRINT", ScanKind.COMMAND)))
    step(lambda: station.label(1))
    step(lambda: station.session.label_printed(1, reprint=True))
    step(lambda: station.close())
    step(lambda: station.scan(kind("PB:CLOSE", ScanKind.COMMAND)))  # already packed
    # a second order, held
    step(lambda: station.open(MIXED_ORDER))
    step(lambda: station.scan_text(MUG_GTIN13))
    step(lambda: station.session.new_box("XL"))  # not a box type
    step(lambda: station.do(station.session.hold(HoldReason.SHORT_PICK)))
    step(lambda: station.scan_text(MUG_GTIN13))  # no order open
    return said, station.outbox


def test_every_sentence_of_a_pack_session_comes_from_the_catalogue() -> None:
    said, _events = pack_everything()
    assert len(said) > 30
    for text in said:
        assert i18n.render(text, "en").strip(), text
        assert untranslated(text) == [], (i18n.render(text, "en"), i18n.render(text, i18n.PSEUDO))


def test_the_pseudo_locale_check_catches_a_sentence_that_skipped_the_catalogue() -> None:
    assert untranslated(i18n.join(i18n.Msg("Scan the next item."), "Box closed.")) == [
        "Box",
        "closed",
    ]


@pytest.mark.parametrize("language", [i18n.PSEUDO, "en"])
def test_the_same_scans_record_the_same_events_in_every_language(language: str) -> None:
    with i18n.using("en"):
        _said, english = pack_everything()
    with i18n.using(language):
        said, events = pack_everything()
        shown = [str(text) for text in said]  # rendered as the screen does
    assert [(e.type, e.order_id, e.payload_json(), e.lease_epoch) for e in events] == [
        (e.type, e.order_id, e.payload_json(), e.lease_epoch) for e in english
    ]
    recorded = json.dumps([e.payload_json() for e in events], ensure_ascii=False)
    assert not PSEUDO_LETTERS & set(recorded)  # no sentence of any language in an event
    for sentence in shown:
        assert sentence not in recorded
