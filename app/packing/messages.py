"""Sentences the packer reads that issue 17 added: one place, so translation can find them.

Each function takes the facts and returns one sentence; nothing else builds these words.
"""

from __future__ import annotations

from collections.abc import Sequence

OVERRIDE_HINT = "A supervisor can override: F6."


def _numbers(values: Sequence[int]) -> str:
    """1 -> "1"; 1, 2 -> "1 and 2"; 1, 2, 3 -> "1, 2 and 3"."""
    texts = [str(v) for v in values]
    if len(texts) <= 1:
        return "".join(texts)
    return f"{', '.join(texts[:-1])} and {texts[-1]}"


def boxes_phrase(box_nos: Sequence[int]) -> str:
    """ "box 1" or "boxes 1 and 2"."""
    return f"box {box_nos[0]}" if len(box_nos) == 1 else f"boxes {_numbers(box_nos)}"


# ------------------------------------------------------------------ weight


def weight_off(grams: int, lower: int, upper: int, rule: str = "") -> str:
    """A parcel outside its band, with the rule that set it ("expected 440 g ± 50 g, learned
    from 12 parcels") and what to do: it reweighs once put back."""
    word = "too heavy" if grams > upper else "too light"
    why = f" ({rule.removeprefix('expected ')})" if rule else ""
    return (
        f"{grams} g is {word}: {lower}-{upper} g expected{why}. Check the items and put the box "
        f"back on the scale. {OVERRIDE_HINT}"
    )


def weight_overridden(box_no: int, grams: int) -> str:
    """A supervisor let an off weight through; the number is the one on the label."""
    return f"Box {box_no}: {grams} g accepted by a supervisor."


# ------------------------------------------------------------------ cash on delivery


def collect_cod(amount: str) -> str:
    """The pack screen's badge on a cash-on-delivery order: the amount with its currency
    ("249.90 RON"), so the packer puts the COD slip or sticker in."""
    return f"Collect {amount}"


# ------------------------------------------------------------------ standing instruction


def next_login() -> str:
    return "Scan your badge."


def next_order() -> str:
    return "Scan the next order or tote barcode."


def next_items(remaining: int, box_no: int = 1) -> str:
    if box_no > 1:
        return f"Scan the next item into box {box_no}: {remaining} still to scan."
    return f"Scan the next item: {remaining} still to scan."


def next_serial(name: str) -> str:
    return f"Scan the serial number of {name}."


def next_on_scale(box_no: int) -> str:
    return f"Put box {box_no} on the scale."


def next_after_rejected(box_no: int) -> str:
    return f"Check the items, lift box {box_no} off the scale and put it back. {OVERRIDE_HINT}"


def next_labels_printing(box_nos: Sequence[int]) -> str:
    if len(box_nos) == 1:
        return f"Wait: the label for box {box_nos[0]} is printing."
    return f"Wait: the labels for boxes {_numbers(box_nos)} are printing."


def next_label_waiting_carrier(box_nos: Sequence[int]) -> str:
    return f"Wait: the carrier's label for {boxes_phrase(box_nos)} prints as soon as it comes."


def next_label_failed(box_nos: Sequence[int]) -> str:
    return f"The label for {boxes_phrase(box_nos)} did not print: fix the printer, then F4."


def next_close(auto: bool) -> str:
    if auto:
        return "Stick the label on, then scan the next order."
    return "Stick the label on, then scan PB:CLOSE (F9) to finish the order."


def next_after_hold() -> str:
    return "Put the order on the exceptions shelf, then scan the next order."


def next_pin() -> str:
    return "Type the PIN and press Enter."


# ------------------------------------------------------------------ supervisor


def no_pace(cutoff_hhmm: str | None) -> str:
    """A batch nobody packed in the last hour: no projection, its own cut-off instead."""
    if cutoff_hhmm is None:
        return "no packing in the last hour"
    return f"no packing in the last hour · cut-off {cutoff_hhmm}"


# ------------------------------------------------------------------ banners


def labels_printing(box_nos: Sequence[int]) -> str:
    if len(box_nos) == 1:
        return f"The label for box {box_nos[0]} is printing."
    return f"The labels for boxes {_numbers(box_nos)} are printing."


def repeat_read() -> str:
    return "The same code was read twice; the second read was ignored."


def still_open(number: str) -> str:
    return f"Order {number} is not finished yet; finish it or hold it (F2) first."


def label_still_printing(box_no: int) -> str:
    return f"The label for box {box_no} is still printing; it finishes by itself."


def auto_packed(number: str, boxes: int) -> str:
    plural = "box" if boxes == 1 else "boxes"
    return f"Order {number} is packed in {boxes} {plural}."


def hold_label_withdrawn(box_nos: Sequence[int]) -> str:
    return f"The label for {boxes_phrase(box_nos)} had not printed; it was withdrawn."


def hold_label_void(box_nos: Sequence[int]) -> str:
    return (
        f"The label for {boxes_phrase(box_nos)} has printed: take it off and put it with the "
        "order; a supervisor voids it."
    )


def next_after_hold_labelled(box_nos: Sequence[int]) -> str:
    return (
        f"Take the label off {boxes_phrase(box_nos)}, put the order on the exceptions shelf, "
        "then scan the next order."
    )


def already_packed(number: str) -> str:
    return f"Order {number} is already packed; scan the next order."


def missing_serial(name: str, others: int = 0) -> str:
    """Closing while an item waits for its serial: name the serial, then what else is left."""
    if others <= 0:
        return f"The serial number of {name} is missing; scan it."
    items = "item" if others == 1 else "items"
    return f"The serial number of {name} is missing; scan it, then the {others} other {items}."


# ------------------------------------------------------------------ cycle count


def count_entered() -> str:
    return "Count mode: scan the bin label (PB:LOC:...) of the place to count."


def count_bin_first(code: str) -> str:
    return f"{code} is not a bin label. Scan the bin label (PB:LOC:...) first."


def count_bad_bin(code: str) -> str:
    return f"{code} is not a bin label: use letters, digits and - only. Scan the bin again."


def count_bin_open(location: str) -> str:
    return f"Counting {location}: scan each unit, then PB:CLOSE. PB:QTY:n sets the last scan."


def count_other_bin(location: str) -> str:
    return f"Still counting {location}: PB:CLOSE to confirm it or PB:CANCEL to drop it first."


def count_unit(sku: str, name: str, units: int, location: str) -> str:
    return f"{sku} {name}: {units} counted at {location}. Scan the next unit or PB:CLOSE."


def count_unknown_item(code: str) -> str:
    return f"{code} is not a known product. Put it aside for a supervisor; nothing was counted."


def count_qty_first() -> str:
    return "Scan a unit before its quantity (PB:QTY:n); nothing was counted."


def count_bad_qty(text: str) -> str:
    return f"{text} is not a quantity. Scan PB:QTY: with a number from 0 to 1000000."


def count_not_a_command(text: str) -> str:
    return f"{text} is not a count command. Use the command sheet."


def count_nothing() -> str:
    return "Nothing was counted here yet. Scan each unit, or PB:CANCEL to drop this bin."


def count_saved(location: str, products: int, units: int, online: bool) -> str:
    where = (
        "It goes to the service now."
        if online
        else "Offline: it is queued and goes to the service when the connection is back."
    )
    return (
        f"Count of {location} saved: {units} unit(s) of {products} product(s). {where} "
        "Scan the next bin."
    )


def count_dropped(location: str) -> str:
    return f"Count of {location} dropped; nothing was recorded. Scan the next bin."


def count_left() -> str:
    return "Leaving count mode."


def slip_not_printed(number: str, problem: str) -> str:
    """A packing slip the document printer could not print (it stays in the queue)."""
    problem = problem.strip().rstrip(".")
    later = "" if "automatically" in problem else " It prints by itself when the printer is back."
    return f"Packing slip for {number} not printed: {problem}.{later} Put it in the parcel."


def slip_unconfirmed(number: str, problem: str) -> str:
    """A slip sent to the document printer, which then reported a problem."""
    problem = problem.strip().rstrip(".")
    return f"Packing slip for {number}: {problem}."


def documents_waiting(status: str, waiting: int) -> str:
    """The document printer's part of the status bar, with the slips still to print."""
    if waiting <= 0:
        return status
    return f"{status} · {waiting} slip(s) waiting"
