"""Sentences the packer reads: one place, so translation can find them.

Each function takes the facts and returns one deferred sentence (`app.i18n.Msg`, or a few
joined) that renders in the reader's language when it is shown; nothing else builds these
words. Numbers of boxes, weights and amounts are parameters, never glued into the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app import i18n
from app.i18n import Msg, Text, join, plural


def override_hint() -> Msg:
    # TRANSLATORS: F6 is the key that calls a supervisor override.
    return Msg("A supervisor can override: F6.")


@dataclass(frozen=True, slots=True)
class _Numbers:
    """1 -> "1"; 1, 2 -> "1 and 2"; 1, 2, 3 -> "1, 2 and 3" (the "and" in the reader's words)."""

    values: tuple[int, ...]

    def render(self, lang: str | None = None) -> str:
        texts = [str(v) for v in self.values]
        if len(texts) <= 1:
            return "".join(texts)
        # TRANSLATORS: the end of a list of box numbers, e.g. "1, 2 and 3".
        return Msg("{first} and {last}", first=", ".join(texts[:-1]), last=texts[-1]).render(lang)

    def __str__(self) -> str:
        return self.render()


def numbers(values: Sequence[int]) -> _Numbers:
    return _Numbers(tuple(values))


@dataclass(frozen=True, slots=True)
class _Bare:
    """Another part's sentence used inside ours: without its closing full stop."""

    text: object

    def render(self, lang: str | None = None) -> str:
        return i18n.render(self.text, lang).strip().rstrip(".")

    def __str__(self) -> str:
        return self.render()


# ------------------------------------------------------------------ weight


def weight_off(grams: int, lower: int, upper: int, rule: Text = "") -> Text:
    """A parcel outside its band, with the rule that set it ("expected 440 g ± 50 g, learned
    from 12 parcels") and what to do: it reweighs once put back."""
    w, lo, up = i18n.weight(grams), i18n.weight(lower), i18n.weight(upper)
    if grams > upper:
        if rule:
            off = Msg(
                "{weight} is too heavy: {lower} to {upper} ({rule}).",
                weight=w,
                lower=lo,
                upper=up,
                rule=rule,
            )
        else:
            off = Msg(
                "{weight} is too heavy: {lower} to {upper} expected.", weight=w, lower=lo, upper=up
            )
    elif rule:
        off = Msg(
            "{weight} is too light: {lower} to {upper} ({rule}).",
            weight=w,
            lower=lo,
            upper=up,
            rule=rule,
        )
    else:
        off = Msg(
            "{weight} is too light: {lower} to {upper} expected.", weight=w, lower=lo, upper=up
        )
    return join(off, Msg("Check the items and put the box back on the scale."), override_hint())


def weight_overridden(box_no: int, grams: int) -> Msg:
    """A supervisor let an off weight through; the number is the one on the label."""
    return Msg(
        "Box {box}: {weight} accepted by a supervisor.", box=box_no, weight=i18n.weight(grams)
    )


# ------------------------------------------------------------------ cash on delivery

_WIRE_AMOUNT = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s+([A-Za-z]{3})\s*")


def collect_cod(amount: object) -> Msg:
    """The pack screen's badge on a cash-on-delivery order: the amount with its currency
    (an `i18n.money()`, or the replica's "249.90 RON", formatted per locale), so the packer
    puts the COD slip or sticker in."""
    if isinstance(amount, str):
        wire = _WIRE_AMOUNT.fullmatch(amount)
        if wire is not None:
            amount = i18n.money(wire.group(1), wire.group(2))
    # TRANSLATORS: badge on a cash-on-delivery order: the courier collects this amount.
    return Msg("Collect {amount}", amount=amount)


# ------------------------------------------------------------------ standing instruction


def next_login() -> Msg:
    return Msg("Scan your badge.")


def next_order() -> Msg:
    # TRANSLATORS: "tote" is the picking crate the items arrive in.
    return Msg("Scan the next order or tote barcode.")


def next_items(remaining: int, box_no: int = 1) -> Msg:
    if box_no > 1:
        # TRANSLATORS: "box" is the shipping carton.
        return plural(
            "Scan the next item into box {box}: {n} still to scan.",
            "Scan the next item into box {box}: {n} still to scan.",
            remaining,
            box=box_no,
        )
    return plural(
        "Scan the next item: {n} still to scan.",
        "Scan the next item: {n} still to scan.",
        remaining,
    )


def next_serial(name: str) -> Msg:
    return Msg("Scan the serial number of {product}.", product=name)


def next_on_scale(box_no: int) -> Msg:
    return Msg("Put box {box} on the scale.", box=box_no)


def next_after_rejected(box_no: int) -> Text:
    return join(
        Msg("Check the items, lift box {box} off the scale and put it back.", box=box_no),
        override_hint(),
    )


def next_labels_printing(box_nos: Sequence[int]) -> Msg:
    if len(box_nos) == 1:
        return Msg("Wait: the label for box {box} is printing.", box=box_nos[0])
    return Msg("Wait: the labels for boxes {boxes} are printing.", boxes=numbers(box_nos))


def next_label_waiting_carrier(box_nos: Sequence[int]) -> Msg:
    if len(box_nos) == 1:
        return Msg(
            "Wait: the carrier's label for box {box} prints as soon as it comes.", box=box_nos[0]
        )
    return Msg(
        "Wait: the carrier's label for boxes {boxes} prints as soon as it comes.",
        boxes=numbers(box_nos),
    )


def next_label_failed(box_nos: Sequence[int]) -> Msg:
    if len(box_nos) == 1:
        return Msg(
            "The label for box {box} did not print: fix the printer, then F4.", box=box_nos[0]
        )
    return Msg(
        "The label for boxes {boxes} did not print: fix the printer, then F4.",
        boxes=numbers(box_nos),
    )


def next_close(auto: bool) -> Msg:
    if auto:
        return Msg("Stick the label on, then scan the next order.")
    return Msg(
        "Stick the label on, then scan {command} (F9) to finish the order.", command="PB:CLOSE"
    )


def next_after_hold() -> Msg:
    return Msg("Put the order on the exceptions shelf, then scan the next order.")


def next_pin() -> Msg:
    return Msg("Type the PIN and press Enter.")


# ------------------------------------------------------------------ supervisor


def no_pace(cutoff_hhmm: str | None) -> Msg:
    """A batch nobody packed in the last hour: no projection, its own cut-off instead."""
    if cutoff_hhmm is None:
        return Msg("no packing in the last hour")
    return Msg("no packing in the last hour · cut-off {time}", time=cutoff_hhmm)


# ------------------------------------------------------------------ banners


def labels_printing(box_nos: Sequence[int]) -> Msg:
    if len(box_nos) == 1:
        return Msg("The label for box {box} is printing.", box=box_nos[0])
    return Msg("The labels for boxes {boxes} are printing.", boxes=numbers(box_nos))


def repeat_read() -> Msg:
    return Msg("The same code was read twice; the second read was ignored.")


def still_open(number: str) -> Msg:
    # TRANSLATORS: F2 puts the order on hold.
    return Msg("Order {order} is not finished yet; finish it or hold it (F2) first.", order=number)


def label_still_printing(box_no: int) -> Msg:
    return Msg("The label for box {box} is still printing; it finishes by itself.", box=box_no)


def auto_packed(number: str, boxes: int) -> Msg:
    return plural(
        "Order {order} is packed in {n} box.",
        "Order {order} is packed in {n} boxes.",
        boxes,
        order=number,
    )


def hold_label_withdrawn(box_nos: Sequence[int]) -> Msg:
    if len(box_nos) == 1:
        return Msg("The label for box {box} had not printed; it was withdrawn.", box=box_nos[0])
    return Msg(
        "The label for boxes {boxes} had not printed; it was withdrawn.", boxes=numbers(box_nos)
    )


def hold_label_void(box_nos: Sequence[int]) -> Msg:
    if len(box_nos) == 1:
        return Msg(
            "The label for box {box} has printed: take it off and put it with the order; "
            "a supervisor voids it.",
            box=box_nos[0],
        )
    return Msg(
        "The label for boxes {boxes} has printed: take it off and put it with the order; "
        "a supervisor voids it.",
        boxes=numbers(box_nos),
    )


def next_after_hold_labelled(box_nos: Sequence[int]) -> Msg:
    if len(box_nos) == 1:
        return Msg(
            "Take the label off box {box}, put the order on the exceptions shelf, "
            "then scan the next order.",
            box=box_nos[0],
        )
    return Msg(
        "Take the label off boxes {boxes}, put the order on the exceptions shelf, "
        "then scan the next order.",
        boxes=numbers(box_nos),
    )


def already_packed(number: str) -> Msg:
    return Msg("Order {order} is already packed; scan the next order.", order=number)


def missing_serial(name: str, others: int = 0) -> Msg:
    """Closing while an item waits for its serial: name the serial, then what else is left."""
    if others <= 0:
        return Msg("The serial number of {product} is missing; scan it.", product=name)
    return plural(
        "The serial number of {product} is missing; scan it, then the {n} other item.",
        "The serial number of {product} is missing; scan it, then the {n} other items.",
        others,
        product=name,
    )


# ------------------------------------------------------------------ cycle count


def count_entered() -> Msg:
    return Msg(
        "Count mode: scan the bin label ({command}) of the place to count.", command="PB:LOC:..."
    )


def count_bin_first(code: str) -> Msg:
    return Msg(
        "{code} is not a bin label. Scan the bin label ({command}) first.",
        code=code,
        command="PB:LOC:...",
    )


def count_bad_bin(code: str) -> Msg:
    return Msg(
        "{code} is not a bin label: use letters, digits and - only. Scan the bin again.", code=code
    )


def count_bin_open(location: str) -> Msg:
    return Msg(
        "Counting {location}: scan each unit, then {close}. {qty} sets the last scan.",
        location=location,
        close="PB:CLOSE",
        qty="PB:QTY:n",
    )


def count_other_bin(location: str) -> Msg:
    return Msg(
        "Still counting {location}: {close} to confirm it or {cancel} to drop it first.",
        location=location,
        close="PB:CLOSE",
        cancel="PB:CANCEL",
    )


def count_unit(sku: str, name: str, units: int, location: str) -> Msg:
    return Msg(
        "{sku} {product}: {units} counted at {location}. Scan the next unit or {close}.",
        sku=sku,
        product=name,
        units=i18n.number(units),
        location=location,
        close="PB:CLOSE",
    )


def count_unknown_item(code: str) -> Msg:
    return Msg(
        "{code} is not a known product. Put it aside for a supervisor; nothing was counted.",
        code=code,
    )


def count_qty_first() -> Msg:
    return Msg("Scan a unit before its quantity ({qty}); nothing was counted.", qty="PB:QTY:n")


def count_bad_qty(text: str) -> Msg:
    return Msg(
        "{code} is not a quantity. Scan {qty} with a number from 0 to {max}.",
        code=text,
        qty="PB:QTY:",
        max="1000000",
    )


def count_not_a_command(text: str) -> Msg:
    return Msg("{code} is not a count command. Use the command sheet.", code=text)


def count_nothing() -> Msg:
    return Msg(
        "Nothing was counted here yet. Scan each unit, or {cancel} to drop this bin.",
        cancel="PB:CANCEL",
    )


def count_saved(location: str, products: int, units: int, online: bool) -> Text:
    saved = Msg(
        "Count of {location} saved: {units} unit(s) of {products} product(s).",
        location=location,
        units=i18n.number(units),
        products=i18n.number(products),
    )
    where = (
        Msg("It goes to the service now.")
        if online
        else Msg("Offline: it is queued and goes to the service when the connection is back.")
    )
    return join(saved, where, Msg("Scan the next bin."))


def count_dropped(location: str) -> Msg:
    return Msg(
        "Count of {location} dropped; nothing was recorded. Scan the next bin.", location=location
    )


def count_left() -> Msg:
    return Msg("Leaving count mode.")


def slip_not_printed(number: str, problem: Text) -> Text:
    """A packing slip the document printer could not print (it stays in the queue)."""
    head = Msg(
        "Packing slip for {order} not printed: {problem}.", order=number, problem=_Bare(problem)
    )
    tail = Msg("Put it in the parcel.")
    if "automatically" in i18n.render(problem, "en"):
        return join(head, tail)
    return join(head, Msg("It prints by itself when the printer is back."), tail)


def slip_unconfirmed(number: str, problem: Text) -> Msg:
    """A slip sent to the document printer, which then reported a problem."""
    return Msg("Packing slip for {order}: {problem}.", order=number, problem=_Bare(problem))


def documents_waiting(status: Text, waiting: int) -> Text:
    """The document printer's part of the status bar, with the slips still to print."""
    if waiting <= 0:
        return status
    return plural(
        "{status} · {n} slip waiting", "{status} · {n} slips waiting", waiting, status=status
    )
