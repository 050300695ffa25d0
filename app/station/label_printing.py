"""Parcel labels for the station: the carrier label fetched ahead when it fits, else our own.

Jobs go through the durable print queue (`app.printing.queue`), so a label that cannot
print now is kept and prints when the printer is back; the print worker reports each job's
end, which the runtime records as `label_printed`.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from app import i18n
from app.i18n import _
from app.printing.carrier import (
    CarrierFormat,
    CarrierLabel,
    carrier_to_escpos,
    carrier_to_zpl,
    rasterise,
    zpl_size_warning,
)
from app.printing.errors import LabelError
from app.printing.printer import Language, Printer
from app.printing.queue import CONFIRMED, FAILED, PrintJob, PrintQueue
from app.printing.zpl_preview import zpl_preview
from app.station.ports import AwaitingLabel, OrderRecord
from sync.clock import utcnow
from sync.protocol import LabelSnapshot

log = logging.getLogger(__name__)


def sscc(order_id: int, box_no: int, prefix: str = "0400000") -> str:
    """An 18-digit SSCC for a parcel (extension 0, company prefix, serial, check digit)."""
    body = f"0{prefix}{order_id:07d}{box_no:02d}"[:17].rjust(17, "0")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


class StationLabels:
    """`LabelPrinting` over the print queue and the configured label printer."""

    def __init__(
        self,
        queue: PrintQueue,
        printer: Printer,
        carrier_labels: Callable[[int], list[LabelSnapshot]],
        clock: Callable[[], datetime] = utcnow,
        layout_file: Path | None = None,
    ) -> None:
        self.queue = queue
        self.printer = printer
        self.carrier_labels = carrier_labels
        self.clock = clock
        # The site's label_layout.toml (sender, logo, fields), read at each own label.
        self.layout_file = layout_file
        self._last_job: dict[tuple[int, int], int] = {}
        self._job_labels: dict[int, tuple[int | None, str | None]] = {}

    def _carrier_payload(self, snap: LabelSnapshot) -> bytes:
        data = base64.b64decode(snap.content_b64)
        if snap.format == "zpl" and self.printer.language is Language.ZPL:
            zpl_size_warning(data, self.printer.media, self.printer.dpi)  # logged, still prints
            return data  # carrier ZPL goes through untouched
        label = CarrierLabel(CarrierFormat(snap.format), data)
        if self.printer.language is Language.ZPL:
            return carrier_to_zpl(label, self.printer.media, self.printer.dpi)
        if self.printer.language is Language.ESCPOS and self.printer.escpos is not None:
            return carrier_to_escpos(label, self.printer.escpos, self.printer.media)
        return data

    def _carrier_preview(self, snap: LabelSnapshot) -> bytes | None:
        """A PNG beside a carrier label on file printers (the demo), showing what prints.

        PDF/PNG labels are drawn as they are rasterised for the printer; carrier ZPL that is
        a raster (`^GFA`) is drawn dot for dot; carrier ZPL the printer draws itself (text
        and barcode commands) gets a PNG that says plainly there is no preview, and a log
        line saying the same.
        """
        if not self.printer.writes_previews:
            return None
        data = base64.b64decode(snap.content_b64)
        if snap.format == "zpl":
            preview = zpl_preview(data, self.printer.media, self.printer.dpi, snap.tracking_number)
            if preview.notice is not None:
                log.info(
                    "no picture preview for the %s label %s: %s",
                    snap.carrier,
                    snap.tracking_number,
                    preview.notice,
                )
            return preview.png(self.printer.dpi)
        label = CarrierLabel(CarrierFormat(snap.format), data)
        try:
            image = rasterise(label, self.printer.media, self.printer.dpi)
        except Exception:  # the label itself still prints (or fails with its own reason)
            log.exception("no preview for carrier label %s", snap.id)
            return None
        out = io.BytesIO()
        image.save(out, "PNG")
        return out.getvalue()

    def print_label(self, order: OrderRecord, box_no: int, box_count: int, grams: int) -> int:
        """Queue the label for one weighed box; returns the print job id.

        The carrier label made ahead for this box is used when the weight is inside its band
        and it counts the order's `box_count` parcels. When it does not (or none came yet) the
        parcel waits for the service's new label (AwaitingLabel) rather than printing a label
        the carrier does not know, or one that says "1 of 1" on the first of two boxes. Only
        orders without a carrier (own fleet) get a label drawn here.
        """
        view = order.view
        live = [s for s in self.carrier_labels(view.id) if s.status != "cancelled"]
        fitting = [
            s
            for s in live
            if s.parcel_no == box_no
            and s.parcel_count == box_count
            and s.weight_min_grams <= grams <= s.weight_max_grams
        ]
        try:
            return self._queue_label(order, box_no, box_count, grams, fitting)
        except LabelError as exc:
            # A label that cannot be drawn (address too long, unknown letters, A4 carrier PDF,
            # damaged PDF) is kept as a failed job with the reason, never printed blank.
            log.warning("label of order %s box %s refused: %s", view.number, box_no, exc)
            job = self.queue.refuse(
                self.printer.url,
                "carrier_label" if fitting else "shipping_label",
                exc.message,
                order_number=view.number,
                parcel_id=f"{view.id}/{box_no}",
            )
            self._last_job[(view.id, box_no)] = job.id
            return job.id

    def _queue_label(
        self,
        order: OrderRecord,
        box_no: int,
        box_count: int,
        grams: int,
        fitting: list[LabelSnapshot],
    ) -> int:
        view = order.view
        preview = None
        label_ref: tuple[int | None, str | None] = (None, None)
        if fitting:
            payload = self._carrier_payload(fitting[0])
            preview = self._carrier_preview(fitting[0])
            kind = "carrier_label"
            label_ref = (fitting[0].id, fitting[0].tracking_number)
        elif view.carrier:
            raise AwaitingLabel(
                # TRANSLATORS: box = shipping carton; {carrier} is a carrier code such as "dhl"
                _(
                    "Box {box} ({weight}) waits for its {carrier} label from the service; "
                    "it prints by itself as soon as the label arrives. Put the box aside.",
                    box=box_no,
                    weight=i18n.weight(grams),
                    carrier=view.carrier,
                )
            )
        else:
            from app.printing.documents import (  # own labels are the rare case
                ShippingLabel,
                order_language,
            )
            from app.printing.label_layout import DEFAULT_LAYOUT, load_layout
            from app.printing.layouts import shipping_label

            layout = load_layout(self.layout_file) if self.layout_file else DEFAULT_LAYOUT
            model = shipping_label(
                ShippingLabel(
                    ship_from=layout.sender,
                    ship_to=order.ship_to or (view.number,),
                    carrier=(view.carrier or "house").upper(),
                    service=view.service or "standard",
                    tracking_number=f"{view.number}-{box_no}",
                    sscc=sscc(view.id, box_no),
                    weight_kg=grams / 1000,
                    order_number=f"{view.number}  box {box_no}/{box_count}",
                    printed_at=self.clock(),
                    language=order_language(order.language, order.country),  # on the parcel
                ),
                self.printer.media,
                layout,
            )
            payload = self.printer.render(model)
            preview = self.printer.preview(model)
            kind = "shipping_label"
        parcel_id = f"{view.id}/{box_no}"
        job = self._queued_before(view.number, parcel_id, payload)
        if job is None:
            job = self.queue.enqueue(
                payload,
                self.printer.url,
                kind,
                order_number=view.number,
                parcel_id=parcel_id,
                preview_png=preview,
            )
        else:
            log.info("label of order %s box %s is job %s already", view.number, box_no, job.id)
        self._last_job[(view.id, box_no)] = job.id
        self._job_labels[job.id] = label_ref
        log.info("label job %s queued for order %s box %s (%s)", job.id, view.number, box_no, kind)
        return job.id

    def _queued_before(self, order_number: str, parcel_id: str, payload: bytes) -> PrintJob | None:
        """The box's first print queued before the station restarted, if it still stands.

        A restart between queueing a label and recording it printed (a printer out of paper,
        a crash) must not print it twice: that job still prints, or has printed. A carrier
        label replaced since (new weight band) supersedes the old job if it has not printed.
        Our own labels differ only in their print time, so any earlier one is the same label.
        """
        for job in reversed(self.queue.jobs(self.printer.url, order_number)):
            if job.parcel_id != parcel_id or job.reprint_of is not None:
                continue
            if job.state == FAILED and not job.retryable:
                return None  # given up or replaced: print anew
            if job.payload == payload or job.document_type == "shipping_label":
                return job
            self.queue.supersede(job.id, "Replaced by the box's new carrier label")
            return None
        return None

    def withdraw(self, job_id: int) -> bool:
        """Stop a box's label from printing (the box is weighed again); False if it printed."""
        return self.queue.supersede(job_id, "Withdrawn: the box was weighed again")

    def job_outcome(self, job_id: int) -> tuple[bool, str] | None:
        """(ok, message) once the job has ended; None while it is queued or printing."""
        return job_outcome(self.queue.get(job_id))

    def reprint_label(self, order: OrderRecord, box_no: int, by_user: int, reason: str) -> int:
        """A supervisor-approved reprint: a new job linked to the original."""
        original = self._last_job.get((order.view.id, box_no))
        if original is None:
            raise LookupError(_("No label of box {box} was printed at this station.", box=box_no))
        job = self.queue.reprint(original, f"user:{by_user}", reason)
        self._job_labels[job.id] = self._job_labels.get(original, (None, None))
        return job.id

    def label_for_job(self, job_id: int) -> tuple[int | None, str | None]:
        """The carrier label id and tracking number a job printed (None for own labels)."""
        return self._job_labels.get(job_id, (None, None))


def job_outcome(job: PrintJob) -> tuple[bool, str] | None:
    """(ok, message) when a job has ended one way or another; None while it is under way."""
    if job.state == CONFIRMED:
        return True, ""
    if job.state == FAILED or job.needs_decision:
        return False, job.last_error or _("The label did not print.")
    if job.last_error:
        return False, _(
            "{problem} The label prints when the printer is ready.", problem=job.last_error
        )
    return None
