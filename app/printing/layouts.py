"""Lay documents out as label models (one `Label` per page).

Every sentence drawn is an `app.i18n` message: a document on or in the parcel renders in its
`language` (the order's), the others in the station's current language (`_`). Numbers,
money, weights and dates go through the language's Babel formats.
"""

from __future__ import annotations

from PIL import Image

from app import i18n
from app.i18n import Msg, _, plural
from app.printing.documents import (
    BGradeLabel,
    BinLabel,
    BoxContentLabel,
    CommandSheet,
    PackingSlip,
    ReturnSlip,
    ShippingLabel,
    SlipLine,
    command_entries,
)
from app.printing.label_layout import DEFAULT_LAYOUT, ShippingLayout
from app.printing.model import (
    CAPTION_SIZE_MM,
    MEDIA_4X6,
    MEDIA_A4,
    Barcode,
    Box,
    Element,
    Label,
    Line,
    Media,
    Picture,
    Symbology,
    Text,
    bounds_mm,
    text_width_mm,
    wrap_text,
)
from app.printing.text_fit import FittedBlock, fit_block


def _right_barcode(
    value: str, media: Media, margin: float, y: float, module: float, height: float
) -> Barcode:
    probe = Barcode(0, y, value, height_mm=height, module_mm=module)
    width = probe.size_mm()[0] + probe.quiet_zone_mm()
    return Barcode(media.width_mm - margin - width, y, value, height_mm=height, module_mm=module)


def packing_slip_pages(slip: PackingSlip, media: Media = MEDIA_A4) -> list[Label]:
    """Packing slip: header with order barcode, ship-to, lines table, return instructions."""
    compact = media.width_mm < 150
    margin = 5.0 if compact else 15.0
    body = 3.2 if compact else 4.0
    pitch = body * 1.45
    right = media.width_mm - margin
    qty_x = right - (10 if compact else 15)
    name_x = margin + (24 if compact else 40)
    lang = slip.language
    return_lines = wrap_text(slip.return_text, body * 0.9, right - margin)
    footer_height = 6 + len(return_lines) * pitch * 0.9

    pages: list[list[Element]] = []
    remaining = list(slip.lines)
    while True:
        page: list[Element] = []
        y = _slip_header(page, slip, media, margin, compact, len(pages) > 0)
        page += [
            # TRANSLATORS: column heading on the customer's packing slip: stock keeping unit.
            Text(margin, y, Msg("SKU").render(lang), body, bold=True),
            # TRANSLATORS: column heading on the packing slip: the product ordered.
            Text(name_x, y, Msg("Item").render(lang), body, True),
            # TRANSLATORS: column heading on the packing slip: quantity (keep it short).
            Text(qty_x, y, Msg("Qty").render(lang), body, bold=True),
        ]
        y += pitch
        page.append(Line(margin, y - 1.2, right, y - 1.2, 0.3))
        bottom = media.height_mm - margin - footer_height - 8
        while remaining:
            line = remaining[0]
            names = wrap_text(line.name, body, qty_x - name_x - 2)
            if y + len(names) * pitch > bottom:
                break
            remaining.pop(0)
            page += [
                Text(margin, y, _fit(line.sku, body, name_x - margin - 2), body),
                Text(qty_x, y, i18n.render(i18n.number(line.qty), lang), body, bold=True),
            ]
            page += [Text(name_x, y + i * pitch, n, body) for i, n in enumerate(names)]
            y += len(names) * pitch
        pages.append(page)
        if not remaining:
            break
    last = pages[-1]
    total = sum(line.qty for line in slip.lines)
    y = media.height_mm - margin - footer_height - 6
    items = plural("{n} item in this order", "{n} items in this order", total)
    last += [
        Line(margin, y, right, y, 0.3),
        Text(margin, y + 1.5, items.render(lang), body, bold=True),
    ]
    y += 7
    # TRANSLATORS: heading of the packing slip's return instructions.
    last.append(Text(margin, y, Msg("Returns").render(lang), body, bold=True))
    last += [
        Text(margin, y + pitch * (i + 1) * 0.9, t, body * 0.9) for i, t in enumerate(return_lines)
    ]
    count = len(pages)
    out = []
    for n, elements in enumerate(pages, start=1):
        folio = _fit(Msg("Page {page} of {pages}", page=n, pages=count).render(lang), 2.5, 60)
        x = min(right - 22, right - text_width_mm(folio, 2.5, False))  # right-aligned if long
        folio_y = media.height_mm - margin * 0.6 - 3
        out.append(Label(media, (*elements, Text(x, folio_y, folio, 2.5)), name="packing slip"))
    return out


def _fit(text: str, size: float, width: float, bold: bool = False) -> str:
    while len(text) > 1 and text_width_mm(text, size, bold) > width:
        text = text.removesuffix("...")[:-1] + "..."  # ASCII: every printer font has it
    return text


def _slip_header(
    page: list[Element],
    slip: PackingSlip,
    media: Media,
    margin: float,
    compact: bool,
    continued: bool,
) -> float:
    lang = slip.language
    title = 6.0 if compact else 8.0
    body = 3.2 if compact else 4.0
    module = 0.25 if compact else 0.375
    bar_h = 9.0 if compact else 14.0
    # TRANSLATORS: title of the list of goods put in the customer's parcel.
    heading = Msg("Packing slip (continued)") if continued else Msg("Packing slip")
    y = margin + title + 1.5
    code_y = y + body * 3.4 if compact else margin
    code = _right_barcode(slip.order_number, media, margin, code_y, module, bar_h)
    # A long translation is shortened, never drawn over the order's barcode.
    room = (media.width_mm - 2 * margin if compact else bounds_mm(code)[0] - margin) - 2
    printed = i18n.render(i18n.medium_date(slip.printed_at.date()), lang)
    order = Msg("Order {number}", number=slip.order_number).render(lang)
    page += [
        Text(margin, margin, _fit(heading.render(lang), title, room, True), title, bold=True),
        Text(margin, y, _fit(order, body * 1.2, room, True), body * 1.2, True),
        Text(margin, y + body * 1.7, _fit(f"{slip.channel}  ·  {printed}", body, room), body),
        code,
    ]
    if compact:
        y = code_y + bar_h + 5
    else:
        y += body * 3.6
    if slip.shop_name:
        page.append(Text(margin, y, slip.shop_name, body, bold=True))
        y += body * 1.5
    if not continued:
        # TRANSLATORS: heading of the delivery address on the packing slip.
        page.append(Text(margin, y, Msg("Ship to").render(lang), body * 0.85, bold=True))
        y += body * 1.3
        for address_line in slip.ship_to:
            page.append(Text(margin, y, address_line, body))
            y += body * 1.35
        width = media.width_mm - 2 * margin
        if slip.pickup_point is not None:
            point_id, point_name = slip.pickup_point
            y += body * 0.4
            # TRANSLATORS: the parcel shop or locker the customer collects the parcel from.
            page.append(Text(margin, y, Msg("Pickup point").render(lang), body * 0.85, True))
            y += body * 1.3
            for text in wrap_text(point_name, body, width) if point_name else []:
                page.append(Text(margin, y, text, body))
                y += body * 1.35
            point = Msg("Point id: {point}", point=point_id).render(lang)
            page.append(Text(margin, y, _fit(point, body, width), body))
            y += body * 1.35
        if slip.cod:
            y += body * 0.4
            cod = Msg("Cash on delivery: the courier collects {amount}", amount=slip.cod)
            for text in wrap_text(cod.render(lang), body, width, bold=True):  # never cut off
                page.append(Text(margin, y, text, body, bold=True))
                y += body * 1.35
    return y + body


def command_sheet_pages(sheet: CommandSheet) -> list[Label]:
    """A4 grid of Code 128 command barcodes, two columns, caption above each code."""
    media, margin, module, bar_h = MEDIA_A4, 15.0, 0.25, 12.0
    columns, cell_w, cell_h = 2, (210 - 2 * 15) / 2, 31.0
    top = margin + 16
    rows = int((media.height_mm - top - margin) // cell_h)
    entries = command_entries(sheet)
    pages: list[Label] = []
    for start in range(0, len(entries), rows * columns):
        elements: list[Element] = [
            Text(margin, margin, _(sheet.title), 7, bold=True),
            Text(
                margin,
                margin + 9,
                _(
                    "Scan a code with the station scanner.  Printed {date}",
                    date=i18n.date(sheet.printed_at.date()),
                ),
                3.2,
            ),
        ]
        for index, entry in enumerate(entries[start : start + rows * columns]):
            col, row = index % columns, index // columns
            x, y = margin + col * cell_w, top + row * cell_h
            elements.append(Box(x + 1, y, cell_w - 2, cell_h - 2, 0.2))
            elements.append(
                Text(x + 4, y + 2.5, _fit(_(entry.caption), 4.2, cell_w - 8), 4.2, bold=True)
            )
            probe = Barcode(0, 0, entry.value, module_mm=module, height_mm=bar_h)
            width = probe.size_mm()[0]
            elements.append(
                Barcode(
                    x + (cell_w - width) / 2,
                    y + 8.5,
                    entry.value,
                    module_mm=module,
                    height_mm=bar_h,
                )
            )
        pages.append(Label(media, tuple(elements), name="command sheet"))
    return pages


def box_content_label(box: BoxContentLabel, media: Media = MEDIA_4X6) -> Label:
    """Box content label: order, box n of m, DataMatrix + Code 128, the items inside."""
    m = 4.0
    right = media.width_mm - m
    lang = box.language
    when = box.packed_at.strftime("%Y-%m-%d %H:%M")
    packed = Msg("{box_type}  ·  packed {when}", box_type=box.box_type, when=when).render(lang)
    elements: list[Element] = [
        Text(m, m, Msg("Order {number}", number=box.order_number).render(lang), 6, bold=True),
        # TRANSLATORS: "box" = shipping carton; box 2 of 3 of one order.
        Text(
            m,
            m + 8,
            Msg("Box {box} of {boxes}", box=box.box_number, boxes=box.box_count).render(lang),
            9,
            True,
        ),
        Text(m, m + 19, packed, 3.5),
        _datamatrix_top_right(f"{box.order_number}/{box.box_number}", right, m + 1),
        Barcode(m + 4, m + 26, box.order_number, height_mm=14, module_mm=0.375),
        Line(m, m + 47, right, m + 47, 0.4),
        # TRANSLATORS: heading of the list of what is inside this box.
        Text(m, m + 50, Msg("Contents").render(lang), 4, bold=True),
    ]
    y = m + 57.0
    shown = _fit_lines(box.lines, (media.height_mm - m - 8 - y) // 5.5)
    for line in shown:
        elements += [
            Text(m, y, f"{i18n.render(i18n.number(line.qty), lang)} x", 3.8, bold=True),
            Text(m + 11, y, _fit(f"{line.sku}  {line.name}", 3.8, right - m - 12), 3.8),
        ]
        y += 5.5
    if len(shown) < len(box.lines):
        more = len(box.lines) - len(shown)
        text = plural("+ {n} more line", "+ {n} more lines", more).render(lang)
        elements.append(Text(m, y, text, 3.8, True))
    if box.packer:
        packer = Msg("Packed by {packer}", packer=box.packer).render(lang)
        elements.append(Text(m, media.height_mm - m - 4, packer, 3))
    return Label(media, tuple(elements), name="box content label")


def _datamatrix_top_right(value: str, right: float, top: float) -> Barcode:
    probe = Barcode(0, 0, value, Symbology.DATAMATRIX, module_mm=0.75)
    size = probe.size_mm()[0] + probe.quiet_zone_mm()
    return Barcode(right - size, top, value, Symbology.DATAMATRIX, module_mm=0.75)


def _fit_lines(lines: tuple[SlipLine, ...], room: float) -> tuple[SlipLine, ...]:
    room_lines = max(1, int(room))
    return lines if len(lines) <= room_lines else lines[: room_lines - 1]


def shipping_label(
    label: ShippingLabel, media: Media = MEDIA_4X6, layout: ShippingLayout = DEFAULT_LAYOUT
) -> Label:
    """Shipping label (4x6, 100x150, A6): from/to, carrier and service, tracking and SSCC.

    The addresses are fitted into their boxes (`text_fit.fit_block`: wrap, shrink,
    abbreviate) and every block is checked against every other for overlap. `layout` (a
    site's label_layout.toml) picks the logo and which fields print.
    """
    m = 4.0
    right = media.width_mm - m
    head = right - 40
    lang = label.language
    # TRANSLATORS: shipping label caption above the sender's address (capitals on the label).
    elements: list[Element] = [Text(m, m, Msg("FROM").render(lang), 2.6, bold=True)]
    sender = fit_block(label.ship_from, head - 2 - m, 16.5, 3.0, 2.2, False, "sender address")
    elements += _block(sender, m, m + 3.5)
    if layout.logo is not None:
        elements.append(_logo(layout.logo, head + 2, m, right - head - 2, 11))
        service_y = m + 13
    else:
        elements.append(Text(head + 2, m, _shrink(label.carrier, 6, right - head - 2), 6, True))
        service_y = m + 7.5
    elements += [
        Text(head + 2, service_y, _shrink(label.service, 3.5, right - head - 2), 3.5),
        Line(m, 24, right, 24, 0.6),
        # TRANSLATORS: shipping label caption above the recipient's address.
        Text(m, 27, Msg("SHIP TO").render(lang), 3, bold=True),
    ]
    qr = [_qr_top_right(label.tracking_number, right, 26.5)] if layout.shows("qr") else []
    block_right = bounds_mm(qr[0])[0] - 1 if qr else right
    ship_to = fit_block(label.ship_to, block_right - (m + 2), 62.5 - 31.5, 5.2, 3.0)
    elements += [*_block(ship_to, m + 2, 31.5), *qr]
    elements.append(Line(m, 64, right, 64, 0.6))
    if layout.shows("weight"):
        kilos = i18n.render(i18n.number(label.weight_kg, 2), lang)
        weight = _shrink(f"{kilos} kg", 7, right - 48 - m, True)
        elements.append(Text(m, 67, weight, 7, True))
    order = Msg("Order {number}", number=label.order_number).render(lang)
    facts: tuple[str, ...] = (order,) if layout.shows("order") else ()
    facts += (f"{label.printed_at:%Y-%m-%d}",) if layout.shows("date") else ()
    if facts:
        elements += _block(
            fit_block(facts, 46, 10.5, 3.5, 2.5, False, "order number"), right - 46, 66.8
        )
    # TRANSLATORS: shipping label caption above the tracking barcode.
    tracking = Msg("TRACKING").render(lang)
    elements += [Line(m, 78, right, 78, 0.6), Text(m, 80.5, tracking, 2.8, bold=True)]
    if layout.shows("tracking_barcode"):
        elements.append(
            _centred_code(label.tracking_number, Symbology.CODE128, media, 84.5, 15, 0.375)
        )
    else:  # the tracking number always prints, as text at least
        elements.append(Text(m + 2, 86, _shrink(label.tracking_number, 6, right - m - 2), 6, True))
    elements.append(Line(m, 105.5, right, 105.5, 0.6))
    if layout.shows("sscc"):
        # GS1 logistic label: SSCC with X >= 0.495 mm and bars 31.75 mm high where the label
        # has the room; smaller media get the tallest bars that fit.
        sscc_height = min(32.0, media.height_mm - m - CAPTION_SIZE_MM - 1.0 - 112)
        elements += [
            Text(m, 108, "SSCC", 2.8, bold=True),
            _centred_code(f"(00){label.sscc}", Symbology.GS1_128, media, 112, sscc_height, 0.5),
        ]
    return Label(media, tuple(elements), name="shipping label")


def _logo(image: Image.Image, x: float, y: float, width: float, height: float) -> Picture:
    """The logo scaled into width x height mm keeping its proportions, right-aligned."""
    ratio = min(width / image.width, height / image.height)
    w, h = image.width * ratio, image.height * ratio
    return Picture(x + width - w, y, w, h, image)


def _block(block: FittedBlock, x: float, y: float) -> list[Element]:
    return [
        Text(x, y + i * block.pitch_mm, text, block.size_mm, bold)
        for i, (text, bold) in enumerate(block.lines)
    ]


def _shrink(text: str, size: float, width: float, bold: bool = False) -> str:
    """Short one-line fields (carrier, service): ellipsis only past the width."""
    while len(text) > 1 and text_width_mm(text, size, bold) > width:
        text = text.removesuffix("...")[:-1] + "..."  # ASCII: every printer font has it
    return text


def _qr_top_right(value: str, right: float, top: float) -> Barcode:
    probe = Barcode(0, 0, value, Symbology.QR, module_mm=0.5)
    side, quiet = probe.size_mm()[0], probe.quiet_zone_mm()
    return Barcode(right - quiet - side, top + quiet, value, Symbology.QR, module_mm=0.5)


def _centred_code(
    value: str, symbology: Symbology, media: Media, y: float, height: float, module: float
) -> Barcode:
    """The widest module (from `module` down to 0.25 mm) whose code and quiet zones fit."""
    while True:
        probe = Barcode(0, y, value, symbology, height_mm=height, module_mm=module)
        width = probe.size_mm()[0]
        if width + 2 * probe.quiet_zone_mm() <= media.width_mm - 2 or module <= 0.25:
            break
        module = round(module - 0.025, 3)
    x = (media.width_mm - width) / 2
    return Barcode(x, y, value, symbology, height_mm=height, module_mm=module)


def bin_label(label: BinLabel, media: Media = MEDIA_4X6) -> Label:
    """Bin label for a restocked unit: the bin (with its count-mode barcode) and the product."""
    when = f"{label.printed_at:%Y-%m-%d}"
    m = 4.0
    right = media.width_mm - m
    elements: list[Element] = [
        # TRANSLATORS: a shelf location in the warehouse, in capitals on a label.
        Text(
            m, m, _shrink(_("BIN {location}", location=label.location), 9, right - m, True), 9, True
        ),
        _centred_code(label.location_code, Symbology.CODE128, media, 16, 10, 0.375),
        Line(m, 33, right, 33, 0.4),
        Text(m, 35, _shrink(label.sku, 6, right - m, True), 6, bold=True),
        Text(m, 43, _fit(label.name, 3.5, right - m), 3.5),
        _centred_code(label.sku, Symbology.CODE128, media, 48, 10, 0.375),
        Text(
            m,
            66,
            _fit(
                _("Restocked {date}  order {number}", date=when, number=label.order_number),
                3,
                right - m,
            ),
            3,
        ),
    ]
    return Label(media, tuple(elements), name="bin label")


def bgrade_label(label: BGradeLabel, media: Media = MEDIA_4X6) -> Label:
    """B-grade label: second quality, the product, and a code naming this unit."""
    m = 4.0
    right = media.width_mm - m
    origin = (
        _("Return of order {number} ({rma})", number=label.order_number, rma=label.return_code)
        if label.return_code
        else _("Return of order {number}", number=label.order_number)
    )
    elements: list[Element] = [
        # TRANSLATORS: second-quality goods, in capitals on a label.
        Text(m, m, _("B-GRADE"), 9, bold=True),
        Text(m, 16, _shrink(f"{label.sku}  {label.name}", 4, right - m, True), 4, bold=True),
        Text(m, 22, _fit(label.reason or _("second quality"), 3.5, right - m), 3.5),
        _centred_code(label.code, Symbology.CODE128, media, 28, 14, 0.375),
        Text(m, 50, _fit(origin, 3, right - m), 3),
        Text(m, 55, f"{label.printed_at:%Y-%m-%d %H:%M}", 3),
    ]
    return Label(media, tuple(elements), name="B-grade label")


def return_slip_label(slip: ReturnSlip, media: Media = MEDIA_4X6) -> Label:
    """Return slip for a closed return parcel: RMA, order, barcode, each unit's disposition."""
    m = 4.0
    right = media.width_mm - m
    code = slip.return_code or slip.order_number
    elements: list[Element] = [
        # TRANSLATORS: a parcel a customer sent back, in capitals on a label.
        Text(m, m, _("RETURN"), 9, bold=True),
        Text(
            m,
            16,
            # TRANSLATORS: the return has no return number (RMA) from the shop yet.
            _shrink(slip.return_code or _("not announced"), 6, right - m, True),
            6,
            bold=True,
        ),
        Text(m, 24, _fit(_("Order {number}", number=slip.order_number), 3.5, right - m), 3.5),
        _centred_code(code, Symbology.CODE128, media, 29, 12, 0.375),
        Text(m, 47, _shrink(slip.summary, 3.5, right - m, True), 3.5, bold=True),
    ]
    footer_y = media.height_mm - m - 3.5
    y = 53.0
    room = int((footer_y - 1 - y) // 4.5)
    shown = slip.lines if len(slip.lines) <= room else slip.lines[: max(room - 1, 0)]
    for text in shown:
        elements.append(Text(m, y, _fit(text, 3, right - m), 3))
        y += 4.5
    if len(shown) < len(slip.lines):
        more = plural("+ {n} more unit", "+ {n} more units", len(slip.lines) - len(shown))
        elements.append(Text(m, y, str(more), 3, True))
    footer = f"{slip.station}  {slip.printed_at:%Y-%m-%d %H:%M}"
    elements.append(Text(m, footer_y, _fit(footer, 3, right - m), 3))
    return Label(media, tuple(elements), name="return slip")
