"""Labels of the returns bench on the station's label printer: a bin label for a restocked
unit, a B-grade label with a code naming the unit, a return slip when the parcel closes.

They go through the durable print queue like parcel labels. Each label has a key (the order,
the line and which of this station's units of that line it is; or which close of the order),
kept as the job's `parcel_id`: the job is queued *before* the unit's event is recorded, so a
crash between the two leaves a job that a second scan of the same unit finds again instead
of printing a second label, and a failed save withdraws the job if it has not printed yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from app.counting.session import location_barcode
from app.printing.documents import BGradeLabel, BinLabel, ReturnSlip
from app.printing.errors import LabelError
from app.printing.model import Label
from app.printing.printer import Printer
from app.printing.queue import FAILED, PrintJob, PrintQueue
from app.returns.session import SlipLabel, UnitLabel
from sync.clock import utcnow
from sync.protocol import Disposition

log = logging.getLogger(__name__)

RESTOCK_LOCATION = "MAIN"  # where the service puts restocked units (service/stock/ledger.py)
B_GRADE_LOCATION = "B-GRADE"


def bgrade_code(order_number: str, line_id: int, ordinal: int) -> str:
    """The B-grade unit's code: which order, which line, which unit of that line."""
    return f"BG-{order_number}-{line_id}-{ordinal}"


def unit_key(label: UnitLabel, ordinal: int) -> str:
    return f"R{label.order_id}/{label.line_id}/{ordinal}"[:64]


def slip_key(label: SlipLabel, ordinal: int) -> str:
    return f"R{label.order_id}/close/{ordinal}"[:64]


class ReturnLabels:
    """Queue the returns bench's labels on the station's label printer."""

    def __init__(
        self,
        queue: PrintQueue,
        printer: Printer,
        station_name: str = "",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.queue = queue
        self.printer = printer
        self.station_name = station_name
        self.clock = clock

    def unit_label(self, label: UnitLabel, ordinal: int) -> tuple[int, str | None]:
        """Queue the label of the `ordinal`-th unit of the line booked in at this station;
        returns the job id and, when the label cannot be drawn, why."""
        from app.printing.layouts import bgrade_label, bin_label

        now = self.clock()
        model: Label
        if label.disposition is Disposition.B_GRADE:
            kind = "bgrade_label"
            why = label.reason.value.replace("_", " ") if label.reason else "second quality"
            model = bgrade_label(
                BGradeLabel(
                    code=bgrade_code(label.order_number, label.line_id, ordinal),
                    sku=label.sku,
                    name=label.name,
                    reason=why,
                    order_number=label.order_number,
                    return_code=label.return_code or "",
                    printed_at=now,
                ),
                self.printer.media,
            )
        else:
            kind = "bin_label"
            model = bin_label(
                BinLabel(
                    location=RESTOCK_LOCATION,
                    location_code=location_barcode(RESTOCK_LOCATION),
                    sku=label.sku,
                    name=label.name,
                    order_number=label.order_number,
                    printed_at=now,
                ),
                self.printer.media,
            )
        return self._queue(model, kind, label.order_number, unit_key(label, ordinal))

    def return_slip(self, label: SlipLabel, ordinal: int) -> tuple[int, str | None]:
        """Queue the return slip of the `ordinal`-th close of this order at this station."""
        from app.printing.layouts import return_slip_label

        model = return_slip_label(
            ReturnSlip(
                return_code=label.return_code or "",
                order_number=label.order_number,
                lines=label.lines,
                summary=label.summary,
                station=self.station_name,
                printed_at=self.clock(),
            ),
            self.printer.media,
        )
        return self._queue(model, "return_slip", label.order_number, slip_key(label, ordinal))

    def _queue(
        self, model: Label, kind: str, order_number: str, key: str
    ) -> tuple[int, str | None]:
        earlier = self._earlier(order_number, key)
        if earlier is not None:
            log.info("%s %s is job %s already", kind, key, earlier.id)
            return earlier.id, None
        try:
            payload = self.printer.render(model)
            preview = self.printer.preview(model)
        except LabelError as exc:
            log.warning("%s %s refused: %s", kind, key, exc)
            job = self.queue.refuse(
                self.printer.url, kind, exc.message, order_number=order_number, parcel_id=key
            )
            return job.id, exc.message
        job = self.queue.enqueue(
            payload,
            self.printer.url,
            kind,
            order_number=order_number,
            parcel_id=key,
            preview_png=preview,
        )
        log.info("%s job %s queued for %s", kind, job.id, key)
        return job.id, None

    def _earlier(self, order_number: str, key: str) -> PrintJob | None:
        """The label's job queued before (a second scan after a crash), unless withdrawn."""
        for job in reversed(self.queue.jobs(self.printer.url, order_number)):
            if job.parcel_id != key or job.reprint_of is not None:
                continue
            if job.state == FAILED and not job.retryable and job.payload:
                return None  # withdrawn (the save failed): print anew
            return job
        return None

    def withdraw(self, job_id: int) -> bool:
        """Stop a label whose event could not be saved; False if it printed already."""
        return self.queue.supersede(job_id, "Withdrawn: the unit was not saved")

    def reprint(self, job_id: int, by_user: str, reason: str) -> int:
        """Print a label again, as a new job linked to the first."""
        return self.queue.reprint(job_id, by_user, reason).id
