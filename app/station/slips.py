"""Packing slips in the pack flow: printed on the document printer once an order is packed.

The order's channel decides which orders get one (`packbench-service channel update NAME
--packing-slip ...`): the service sends its answer with each order (`OrderRecord.packing_slip`,
sync protocol 3). The station's `packing_slips` setting is `channel` by default (follow the
channel); `never` turns slips off at this bench, and `every_parcel` / `cross_border` (judged
against the station's `site_country`) are bench-wide overrides kept from before the channel
setting. The slip goes through the same persistent print queue as labels, so a document
printer that is off keeps it queued (and the label still prints); a slip is queued once per
order, also after a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum

from app import i18n
from app.device_status import DeviceState, DeviceStatus
from app.i18n import Money, _
from app.packing import messages
from app.packing.progress import PackState
from app.printing.documents import BoxContentLabel, PackingSlip, SlipLine, order_language
from app.printing.queue import CONFIRMED, FAILED, PrintJob, PrintQueue
from app.station.base import RuntimeBase
from app.station.ports import OrderRecord
from sync.clock import utcnow

log = logging.getLogger(__name__)

SLIP = "packing_slip"
BOX_CONTENT = "box_content_label"


class SlipPolicy(StrEnum):
    CHANNEL = "channel"  # the order's channel decides (the default)
    NEVER = "never"
    EVERY_PARCEL = "every_parcel"
    CROSS_BORDER = "cross_border"  # ship-to country differs from the site's


class PackingSlips:
    """Which orders get a slip, and queueing it (once) for the document printer."""

    def __init__(
        self,
        queue: PrintQueue,
        printer_url: str,
        policy: SlipPolicy | str,
        site_country: str = "",
        clock: Callable[[], datetime] = utcnow,
        box_contents: bool = False,
    ) -> None:
        self.queue = queue
        self.printer_url = printer_url
        self.policy = SlipPolicy(policy)
        self.site_country = site_country.strip().upper()
        self.clock = clock
        self.box_contents = box_contents  # a contents label for each box of a multi-box order

    def wanted(self, order: OrderRecord) -> bool:
        """Whether the order's channel (or this bench's override) asks for a slip."""
        if self.policy is SlipPolicy.CHANNEL:
            return bool(order.packing_slip)
        if self.policy is SlipPolicy.EVERY_PARCEL:
            return True
        if self.policy is SlipPolicy.CROSS_BORDER:
            country = order.country.strip().upper()
            return bool(country and self.site_country and country != self.site_country)
        return False

    def print_for(self, order: OrderRecord) -> int | None:
        """Queue the order's slip unless it is not wanted or already queued; the job id."""
        view = order.view
        if not self.wanted(order):
            return None
        for job in self.queue.jobs(self.printer_url, view.number):
            if job.document_type == SLIP:
                return None  # queued (or printed) before: once per order
        from app.printing.layouts import packing_slip_pages  # PDF drawing only when needed
        from app.printing.pdf import render_pdf

        cod: Money | str = order.cod
        if order.cod_amount is not None and order.currency:
            cod = i18n.money(order.cod_amount, order.currency)  # in the slip's language
        slip = PackingSlip(
            order_number=view.number,
            channel=view.channel,
            ship_to=order.ship_to or (view.number,),
            lines=tuple(SlipLine(line.sku, line.name, line.quantity) for line in view.lines),
            return_text="",
            printed_at=self.clock(),
            pickup_point=order.pickup_point,
            cod=cod,
            language=order_language(order.language, order.country),
        )
        job = self.queue.enqueue(
            render_pdf(packing_slip_pages(slip)), self.printer_url, SLIP, order_number=view.number
        )
        log.info("packing slip job %s queued for order %s", job.id, view.number)
        return job.id

    def print_box_contents(
        self, order: OrderRecord, boxes: Sequence[tuple[int, str, tuple[SlipLine, ...]]]
    ) -> list[int]:
        """Queue a contents label per box of a multi-box order (once); the job ids."""
        view = order.view
        if not self.box_contents or len(boxes) < 2:
            return []
        done = {
            job.parcel_id
            for job in self.queue.jobs(self.printer_url, view.number)
            if job.document_type == BOX_CONTENT
        }
        from app.printing.layouts import box_content_label
        from app.printing.pdf import render_pdf

        jobs = []
        for box_no, box_type, lines in boxes:
            parcel_id = f"{view.id}/{box_no}"
            if parcel_id in done:
                continue
            label = box_content_label(
                BoxContentLabel(
                    order_number=view.number,
                    box_number=box_no,
                    box_count=len(boxes),
                    box_type=box_type,
                    lines=lines,
                    packed_at=self.clock(),
                    language=order_language(order.language, order.country),
                )
            )
            job = self.queue.enqueue(
                render_pdf(label),
                self.printer_url,
                BOX_CONTENT,
                order_number=view.number,
                parcel_id=parcel_id,
            )
            jobs.append(job.id)
        return jobs


_TONES = {
    DeviceState.READY: "green",
    DeviceState.WARNING: "amber",
    DeviceState.ERROR: "red",
    DeviceState.DISCONNECTED: "red",
}


class SlipFlow(RuntimeBase):
    """Mixed into StationRuntime: a packed order's slip goes to the document printer.

    The document printer's state is on screen (status bar, with the slips still waiting),
    and a slip that could not print raises a red banner saying what to do; the slip stays
    in the queue and prints by itself when the printer is back.
    """

    slips: PackingSlips | None
    _documents_state: DeviceStatus | None = None

    def document_status(self, status: DeviceStatus) -> None:
        """The document printer reported its state (from its worker, on the GUI thread)."""
        self._documents_state = status
        self._show_documents()

    def document_job(self, job: PrintJob) -> None:
        """A document job ended one way or another (from the worker, on the GUI thread)."""
        if job.document_type in (SLIP, BOX_CONTENT) and job.order_number:
            problem = job.last_error or ""
            if job.state == FAILED:
                log.warning("slip job %s of %s failed: %s", job.id, job.order_number, problem)
                self._show("red", messages.slip_not_printed(job.order_number, problem))
            elif job.needs_decision:
                self._show("amber", messages.slip_unconfirmed(job.order_number, problem))
            elif job.state == CONFIRMED:
                log.info("slip job %s of %s printed", job.id, job.order_number)
        self._show_documents()

    def _show_documents(self) -> None:
        slips, status = self.slips, self._documents_state
        if slips is None:
            return
        try:
            waiting = slips.queue.waiting(slips.printer_url)
        except Exception:  # the status bar must never take the screen down
            log.exception("document queue unreadable")
            waiting = 0
        if status is None:
            text, tone = _("Document printer: checking…"), "amber"
        else:
            text, tone = status.message, _TONES[status.state]
        if waiting and tone == "green":
            tone = "amber"
        # the status bar takes text: rendered now, refreshed on every document printer report
        words = str(messages.documents_waiting(text, waiting))
        self.set_status(documents=words, documents_tone=tone)

    def _order_packed(self) -> None:
        if self.slips is None or self.order is None:
            return
        if self.session.state is not PackState.PACKED:
            return
        progress = self.session.progress
        view = self.order.view
        boxes = []
        for box in progress.boxes:
            lines = []
            for line_id in box.line_ids():
                line = view.line(line_id)
                if line is not None:
                    lines.append(SlipLine(line.sku, line.name, box.quantity(line_id)))
            boxes.append((box.box_no, box.box_type, tuple(lines)))
        try:
            self.slips.print_for(self.order)
            self.slips.print_box_contents(self.order, boxes)
        except Exception:  # a slip must never take the packed order down with it
            log.exception("packing slip of order %s not queued", self.order.view.number)
