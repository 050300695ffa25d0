"""Turn the pack session's progress into the parts of the screen model the views show."""

from __future__ import annotations

from app.packing.session import PackSession
from app.station.ports import OrderRecord
from app.station.screen import BoxInfo, LineRow, OrderHeader


def order_parts(
    session: PackSession,
    order: OrderRecord | None,
    last_line: int | None,
    previous: tuple[LineRow, ...] = (),
) -> dict[str, object]:
    """Header, lines, box and state for `ScreenModel`, from the adopted progress.

    `previous` is the rows shown last: a row whose counts did not change is reused as it is
    (a scan changes one or two rows of an order that may have hundreds), so the views can
    skip it by identity.
    """
    progress = session.progress
    record = order
    if record is None or progress.order is None:
        return {
            "header": None,
            "lines": (),
            "box": None,
            "state": session.state.value,
            "picture_url": "",
        }
    view = progress.order
    header = OrderHeader(
        number=view.number,
        channel=view.channel,
        country=record.country,
        carrier=" ".join(p for p in (view.carrier, view.service) if p),
        priority=record.priority,
        cutoff_at=record.cutoff_at,
        tote=view.tote,
        cod=record.cod,
    )
    serials: dict[int, tuple[str, ...]] = {}  # one pass over the units: orders run to 100s of lines
    for packed in progress.boxes:
        if not packed.has_serials:
            continue
        for unit in packed.units:
            if unit.serial is not None:
                serials[unit.line_id] = (*serials.get(unit.line_id, ()), unit.serial)
    reuse = len(previous) == len(view.lines)
    counts = progress.scanned_counts()  # this runs on every scan: one lookup per line
    rows = []
    for index, line in enumerate(view.lines):
        line_id = line.line_id
        scanned = counts.get(line_id, 0)
        highlight = line_id == last_line
        got = serials.get(line_id, ())
        if reuse:
            old = previous[index]
            if (
                old.line_id == line_id
                and old.scanned == scanned
                and old.highlight == highlight
                and old.serials == got
                and old.required == line.quantity
                and old.sku == line.sku
                and old.name == line.name
                and old.needs_serial == line.serial_required
            ):
                rows.append(old)
                continue
        rows.append(
            LineRow(
                line_id=line_id,
                sku=line.sku,
                name=line.name,
                scanned=scanned,
                required=line.quantity,
                highlight=highlight,
                serials=got,
                needs_serial=line.serial_required,
            )
        )
    lines = tuple(rows)
    box = progress.box if progress.boxes else None
    info = (
        BoxInfo(
            box_no=box.box_no,
            box_type=box.box_type,
            boxes=len(progress.boxes),
            expected_grams=session.expected_grams(),
            weight_grams=box.weight_grams,
            rejected_grams=box.rejected_grams,
        )
        if box is not None
        else None
    )
    shown = view.line(last_line) if last_line is not None else None
    if shown is None:  # before any scan: the first line still to scan
        shown = next((line for line in view.lines if progress.remaining(line.line_id)), None)
    return {
        "header": header,
        "lines": lines,
        "box": info,
        "state": session.state.value,
        "picture_url": (shown.image_url or "") if shown is not None else "",
    }
