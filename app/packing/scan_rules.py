"""Item and serial scans of the pack session.

A rejected scan (over-scan, wrong item, unknown code, invalid, duplicate serial) is still
recorded as a `scan_recorded` event for the audit trail, but it changes no progress.
"""

from __future__ import annotations

from dataclasses import replace

from app import i18n
from app.i18n import Msg, Text, join
from app.packing.core import MAX_CODE, SessionCore
from app.packing.matching import Match, MatchKind, match_scan
from app.packing.model import LineView
from app.packing.progress import PendingSerial
from app.packing.serials import check_gs1_serial, check_serial
from app.packing.step import Outcome, Step
from app.scanning.scan import Scan, ScanKind
from sync.protocol import ScanOutcome

NOT_IN_ORDER_MESSAGE = Msg(
    "That item is not in this order. Put it aside and scan an item from the list."
)
UNKNOWN_MESSAGE = Msg("This code is unknown. Check the label or ask a supervisor.")


class ItemScans(SessionCore):
    """How the session answers item scans: accept, ask for a serial, or refuse and say why."""

    # ------------------------------------------------------------------ scans

    def _invalid_scan(self, scan: Scan) -> Step:
        reason: Text = scan.reason
        if not i18n.render(reason, "en").strip():
            reason = Msg("That barcode could not be read.")
        elif isinstance(reason, str):
            reason = f"{reason.strip().rstrip('.')}."
        # The scanner's reason may already say what to do; never say it twice.
        message: Text = (
            reason
            if "scan it again" in i18n.render(reason, "en").lower()
            else join(reason, Msg("Scan it again."))
        )
        return self._step(
            Outcome.INVALID,
            "red",
            message,
            events=(self._scan_event(scan, ScanOutcome.INVALID),),
        )

    def _item_scan(self, scan: Scan, accepting: bool) -> Step:
        """A PRODUCT, GS1 or UNKNOWN scan while an order is open."""
        progress = self._progress
        assert progress.order is not None
        if progress.pending_serial is not None:
            return self._serial_scan(scan, progress.pending_serial)
        match = match_scan(progress.order, self.catalog, scan)
        if match.kind in (MatchKind.UNKNOWN, MatchKind.NO_PRODUCT_CODE):
            message = UNKNOWN_MESSAGE
            if match.kind is MatchKind.NO_PRODUCT_CODE:
                message = Msg(
                    "This barcode has no product number. Scan the item's product barcode."
                )
            return self._step(
                Outcome.UNKNOWN_CODE,
                "red",
                message,
                events=(self._scan_event(scan, ScanOutcome.UNKNOWN_CODE, serial=match.serial),),
            )
        if match.kind is MatchKind.NOT_IN_ORDER:
            sku = match.product.sku if match.product else None
            return self._step(
                Outcome.NOT_IN_ORDER,
                "red",
                NOT_IN_ORDER_MESSAGE,
                events=(self._scan_event(scan, ScanOutcome.NOT_IN_ORDER, sku=sku),),
            )
        line = next((ln for ln in match.lines if progress.remaining(ln.line_id) > 0), None)
        if line is None:
            first = match.lines[0]
            return self._step(
                Outcome.OVER_SCAN,
                "red",
                Msg(
                    "All {quantity} × {product} are already scanned. "
                    "Take this one out and scan the next item.",
                    quantity=first.quantity,
                    product=first.name,
                ),
                events=(self._scan_event(scan, ScanOutcome.OVER_SCAN, first),),
                line_id=first.line_id,
            )
        if not accepting:
            return self._step(
                Outcome.BOX_CLOSED,
                "red",
                Msg(
                    "Box {box} is closed. Weigh and label it first, "
                    "then scan this item into the next box.",
                    box=progress.box.box_no,
                ),
                line_id=line.line_id,
            )
        return self._accept(scan, line, match)

    def _accept(self, scan: Scan, line: LineView, match: Match) -> Step:
        if match.serial is not None:
            return self._accept_serial(scan, line, match.serial, scan.text, match)
        if line.serial_required:
            pending = PendingSerial(line.line_id, scan.text[:MAX_CODE])
            return self._step(
                Outcome.NEED_SERIAL,
                "amber",
                Msg("Scan the serial number of {product}.", product=line.name),
                progress=replace(self._progress, pending_serial=pending),
                line_id=line.line_id,
            )
        event = self._scan_event(scan, ScanOutcome.ACCEPTED, line, match=match)
        step = self._step(Outcome.ACCEPTED, "green", "", events=(event,), line_id=line.line_id)
        return replace(step, message=self._progress_message(step.progress, line.line_id))

    def _accept_serial(
        self, scan: Scan, line: LineView, serial: str, code: str, match: Match | None = None
    ) -> Step:
        if match is not None and match.serial == serial:  # from GS1 AI 21
            verdict = check_gs1_serial(serial, line)
            if verdict.serial is None:
                return self._step(
                    Outcome.NOT_A_SERIAL, "red", verdict.refusal, line_id=line.line_id
                )
        if serial in self._progress.serials():
            return self._step(
                Outcome.DUPLICATE,
                "red",
                Msg(
                    "Serial number {serial} is already packed in this order. "
                    "Check the item and scan its own serial number.",
                    serial=serial,
                ),
                events=(self._scan_event(scan, ScanOutcome.DUPLICATE, line, serial, code),),
                line_id=line.line_id,
            )
        event = self._scan_event(scan, ScanOutcome.ACCEPTED, line, serial, code, match=match)
        step = self._step(Outcome.ACCEPTED, "green", "", events=(event,), line_id=line.line_id)
        return replace(step, message=self._progress_message(step.progress, line.line_id))

    def _serial_scan(self, scan: Scan, pending: PendingSerial) -> Step:
        """The scan that should carry the serial number the session asked for."""
        progress = self._progress
        assert progress.order is not None
        line = progress.order.line(pending.line_id)
        assert line is not None
        not_serial = join(
            Msg("That is not a serial number."),
            Msg("Scan the serial number of {product}.", product=line.name),
        )
        if scan.kind is ScanKind.GS1:
            match = match_scan(progress.order, self.catalog, scan)
            same_product = match.kind is MatchKind.NO_PRODUCT_CODE or line in match.lines
            if match.serial is None or not same_product:
                return self._step(Outcome.NOT_A_SERIAL, "red", not_serial, line_id=line.line_id)
            return self._accept_serial(scan, line, match.serial, pending.code, match)
        verdict = check_serial(scan.text, scan.kind, line, progress.order, self.catalog)
        if verdict.serial is None:
            return self._step(
                Outcome.NOT_A_SERIAL,
                "red",
                verdict.refusal,
                line_id=line.line_id,
            )
        return self._accept_serial(scan, line, verdict.serial, pending.code)
