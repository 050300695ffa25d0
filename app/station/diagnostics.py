"""The printer actions behind the settings dialog: test page, calibration, command sheet.

Test and calibration pages go through the durable print queue like every label; the
command sheet goes to the document printer (a PDF directory or a CUPS queue).
"""

from __future__ import annotations

import logging

from app.i18n import _
from app.printing.documents import CommandEntry, CommandSheet
from app.printing.layouts import command_sheet_pages
from app.printing.pages import calibration_job, test_job
from app.printing.pdf import render_pdf
from app.printing.printer import Printer, open_printer
from app.printing.queue import PrintQueue
from app.station.count_desk import count_entries
from app.station.returns_desk import return_entries
from app.station.supervision import OVERRIDE_CAPTIONS, OVERRIDE_PREFIX, OVERRIDE_REASONS
from sync.clock import utcnow

log = logging.getLogger(__name__)


def override_entries() -> tuple[CommandEntry, ...]:
    """The supervisors' override reasons, for the command sheet (the rest is printing's)."""
    return tuple(
        CommandEntry(f"{OVERRIDE_PREFIX}{code}", OVERRIDE_CAPTIONS[code])
        for code in OVERRIDE_REASONS
    )


class PrinterDiagnostics:
    """Queue test and calibration pages; print the command sheet on the document printer."""

    def __init__(self, queue: PrintQueue, printer: Printer, document_printer_url: str) -> None:
        self.queue = queue
        self.printer = printer
        self.document_printer_url = document_printer_url

    def test_page(self) -> str:
        job = self.queue.enqueue(test_job(self.printer, utcnow()), self.printer.url, "test_page")
        return _("Test page queued (job {job}); it prints in a moment.", job=job.id)

    def calibrate(self) -> str:
        job = self.queue.enqueue(calibration_job(self.printer), self.printer.url, "calibration")
        return _(
            "Calibration queued (job {job}); the printer feeds a few labels to measure.",
            job=job.id,
        )

    def command_sheet(self, extra: tuple[CommandEntry, ...] = ()) -> str:
        if not self.document_printer_url:
            return _("No document printer is configured; set one with the wizard.")
        modes = return_entries() + count_entries()
        sheet = CommandSheet(printed_at=utcnow(), extra=override_entries() + modes + extra)
        pdf = render_pdf(command_sheet_pages(sheet))
        open_printer(self.document_printer_url).send(pdf, name="command-sheet")
        return _("Command sheet sent to {printer}.", printer=self.document_printer_url)
