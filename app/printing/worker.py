"""`PrintWorker`: one thread per printer draining the durable queue.

Per job: status before -> send -> status after -> confirm. What happens on failure:

* status before shows a problem: nothing was sent; the job is `failed` with the packer's
  sentence and retried with backoff (and as soon as a status probe says the printer is back).
* the connection breaks mid-send (`PrinterInterrupted`) or the printer cannot be reached: we
  cannot know what the printer kept, so the whole job is sent again later. A printer given a
  cut-off ZPL format (no ^XZ) discards it, so a resend does not double-print a ZPL label.
* all bytes were sent but status after shows a problem (or no answer): the label may or may
  not have come out. The job becomes `sent` with the reason and is *not* resent; a person
  looks at the printer and either confirms or asks for a reprint.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from app.device_status import DeviceKind, DeviceStatus
from app.printing.errors import PrinterError
from app.printing.printer import Printer
from app.printing.queue import FAILED, PrintJob, PrintQueue
from app.printing.status import document_words

log = logging.getLogger(__name__)

JobCallback = Callable[[PrintJob], None]
StatusCallback = Callable[[DeviceStatus], None]


class PrintWorker:
    """Drains one printer's jobs on its own thread; reports through plain callbacks."""

    def __init__(
        self,
        queue: PrintQueue,
        printer: Printer,
        *,
        on_job: JobCallback | None = None,
        on_status: StatusCallback | None = None,
        probe_interval: float = 2.0,
        idle_interval: float = 5.0,
    ) -> None:
        self.queue, self.printer = queue, printer
        self.on_job = on_job or (lambda job: None)
        self.on_status = on_status or (lambda status: None)
        self.probe_interval, self.idle_interval = probe_interval, idle_interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Woken the moment a job for this printer is queued, not at the next idle poll.
        queue.on_due(self._job_due)

    def _job_due(self, printer_url: str) -> None:
        if printer_url == self.printer.url:
            self._wake.set()

    def start(self) -> None:
        """Start the worker thread."""
        self._thread = threading.Thread(
            target=self._run, name=f"print:{self.printer.url}", daemon=True
        )
        self._thread.start()

    def wake(self) -> None:
        """A job was enqueued (or a person fixed the printer): look now."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the current job; a job is never abandoned half-sent by stop()."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                delay = self.run_once()
            except Exception:  # the thread must survive a bug; it is logged
                log.exception("print worker for %s failed; retrying", self.printer.url)
                delay = self.probe_interval
            if delay > 0:
                self._wake.wait(delay)
            self._wake.clear()

    def run_once(self) -> float:
        """Handle the next job if any; return how long to wait before looking again."""
        job = self.queue.next_for(self.printer.url)
        if job is None:
            return self.idle_interval
        if job.state == FAILED and job.next_attempt_at is not None:
            wait = (job.next_attempt_at - self.queue.clock()).total_seconds()
            # Not due yet, but retry at once if the printer says it is back. A printer that
            # cannot say (a folder, a raw PDF printer) always "says" ready: it waits its turn,
            # or it would be tried again in a tight loop while its share is away.
            if wait > 0 and (
                not getattr(self.printer, "knows_status", True)
                or not self._check(job, before=True, record=False)
            ):
                return min(wait, self.probe_interval)
        self.process(job)
        return 0.0

    def _check(self, job: PrintJob, before: bool, record: bool = True) -> bool:
        status = self.printer.status()
        self.on_status(self.printer.device_status(status))
        if status.ready:
            return True
        if record:
            error = status.error()
            assert error is not None
            if before:
                self._failed(job, error)
            else:
                if self.printer.kind is DeviceKind.DOCUMENT_PRINTER:
                    # A document printer is a spooler (CUPS): what it took, it keeps and
                    # prints once the problem is fixed.
                    said = (
                        f"In the printer's queue, which then reported: "
                        f"{document_words(error.message)}. It prints from there once fixed."
                    )
                else:
                    said = (
                        f"Sent to the printer, but it then reported: {error.message}. "
                        "Check whether the label printed; reprint it if not."
                    )
                done = self.queue.mark_sent(job.id, said)
                log.warning("job %s sent but unconfirmed: %s", job.id, status.detail)
                self.on_job(done)
        return False

    def _failed(self, job: PrintJob, error: PrinterError) -> None:
        current = self.queue.get(job.id)
        retry_at = self.queue.backoff(max(1, current.attempts)) if error.retryable else None
        failed = self.queue.mark_failed(
            job.id, self._words(error.message), retry_at, error.retryable
        )
        log.warning(
            "job %s (%s, order %s) failed: %s %s",
            job.id,
            job.document_type,
            job.order_number,
            error.message,
            error.detail,
        )
        self.on_job(failed)

    def _words(self, sentence: str) -> str:
        if self.printer.kind is DeviceKind.DOCUMENT_PRINTER:
            return document_words(sentence)
        return sentence

    def process(self, job: PrintJob) -> PrintJob:
        """Print one job through the full check-send-check cycle; returns its new state."""
        if not self._check(job, before=True):
            return self.queue.get(job.id)
        self.queue.mark_attempt(job.id)
        try:
            self.printer.send(
                job.payload, name=f"{job.document_type}-{job.id}", preview_png=job.preview_png
            )
        except PrinterError as error:
            self._failed(job, error)
            return self.queue.get(job.id)
        self.queue.mark_sent(job.id)
        if self._check(job, before=False):
            confirmed = self.queue.mark_confirmed(job.id)
            self.on_job(confirmed)
            return confirmed
        return self.queue.get(job.id)
