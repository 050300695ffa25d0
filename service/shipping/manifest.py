"""The carrier's handover list: one line per parcel, as CSV and as a printable PDF."""

from __future__ import annotations

import csv
import io
from dataclasses import astuple, dataclass, fields
from datetime import datetime
from decimal import Decimal

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle


@dataclass(frozen=True)
class ManifestLine:
    """One parcel handed to the carrier."""

    order_number: str
    parcel_no: int
    parcel_count: int
    tracking_number: str
    weight_grams: int | None
    recipient: str
    postcode: str
    city: str
    country: str
    # Cash the courier collects, on the order's first parcel only (collected once per order);
    # None: prepaid, or a later parcel of a COD order.
    cod_amount: Decimal | None = None
    currency: str = ""


CSV_COLUMNS = [f.name for f in fields(ManifestLine)]

# What a spreadsheet reads as the start of a formula (OWASP "CSV Injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> str:
    """A cell's text, with a leading quote when a spreadsheet would run it as a formula.

    Customers type their own names and addresses at checkout: `=HYPERLINK(...)` must reach
    the carrier's spreadsheet as text. Numbers are written as they are (a weight is never
    negative, and a minus sign on one would be shown, not run).
    """
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def cod_totals(lines: list[ManifestLine]) -> list[tuple[str, Decimal]]:
    """(currency, total) of the manifest's cash on delivery, one per currency, never mixed."""
    sums: dict[str, Decimal] = {}
    for line in lines:
        if line.cod_amount is not None:
            sums[line.currency] = sums.get(line.currency, Decimal("0")) + line.cod_amount
    return sorted(sums.items())


def manifest_csv(lines: list[ManifestLine]) -> bytes:
    """The manifest as UTF-8 CSV (RFC 4180) with a header row (columns: CSV_COLUMNS), then
    one row per COD currency: `COD total` in the first column, the sum in `cod_amount`."""
    buf = io.StringIO()
    # CRLF rows (RFC 4180): the writer then quotes a lone CR or LF inside a cell too.
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        writer.writerow(spreadsheet_safe(v) for v in astuple(line))
    blank = [""] * (len(CSV_COLUMNS) - 3)
    for currency, total in cod_totals(lines):
        writer.writerow(["COD total", *blank, str(total), currency])
    return buf.getvalue().encode("utf-8")


def manifest_pdf(
    manifest_id: str, carrier: str, closed_at: datetime, lines: list[ManifestLine]
) -> bytes:
    """The manifest as an A4 landscape PDF with totals and a signature line for the driver."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), title=f"Manifest {manifest_id}")
    styles = getSampleStyleSheet()
    grams = sum(line.weight_grams or 0 for line in lines)
    orders = len({line.order_number for line in lines})
    head = [
        "Order",
        "Parcel",
        "Tracking number",
        "Weight (kg)",
        "Recipient",
        "Postcode",
        "City",
        "COD",
    ]
    rows = [head] + [
        [
            ln.order_number,
            f"{ln.parcel_no}/{ln.parcel_count}",
            ln.tracking_number,
            f"{(ln.weight_grams or 0) / 1000:.3f}",
            ln.recipient,
            ln.postcode,
            f"{ln.city} ({ln.country})",
            f"{ln.cod_amount} {ln.currency}" if ln.cod_amount is not None else "",
        ]
        for ln in lines
    ]
    table = Table(rows, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
            ]
        )
    )
    story = [
        Paragraph(f"Handover manifest {manifest_id} — carrier {carrier}", styles["Title"]),
        Paragraph(f"Closed {closed_at:%Y-%m-%d %H:%M} UTC", styles["Normal"]),
        Paragraph(
            f"{orders} orders, {len(lines)} parcels, {grams / 1000:.3f} kg in total",
            styles["Normal"],
        ),
        Spacer(1, 8),
        table,
        Spacer(1, 8),
        *(
            [
                Paragraph(f"COD total {currency}: {total} {currency}", styles["Normal"])
                for currency, total in cod_totals(lines)
            ]
            or [Paragraph("No cash on delivery on this manifest.", styles["Normal"])]
        ),
        Spacer(1, 24),
        Paragraph(
            "Received by (driver name, signature, time): ____________________", styles["Normal"]
        ),
    ]
    doc.build(story)
    return buf.getvalue()
