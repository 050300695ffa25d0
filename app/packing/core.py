"""Shared state and step-building helpers of the pack session (see `PackSession`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from app.i18n import Msg, Text, join
from app.packing.commands import Command
from app.packing.errors import IllegalTransition, UnknownBoxType
from app.packing.events import PackEvent, Payload
from app.packing.matching import Match
from app.packing.model import Catalog, LineView
from app.packing.progress import PackProgress, PackState, apply_event
from app.packing.step import Outcome, Step, Tone
from app.scanning.scan import Scan
from sync.protocol import MutationType, ScanOutcome, ScanRecorded

MAX_CODE = 200  # keep a garbled 4 kB "barcode" out of the outbox
MAX_TEXT = 500  # free text (hold, override, reprint reasons) kept to what the service stores


class SessionCore:
    """State and helpers shared by the pack session's actions; see `PackSession`."""

    catalog: Catalog
    packer_id: int | None
    default_box_type: str
    box_weights: Mapping[str, int]
    _progress: PackProgress

    @property
    def state(self) -> PackState:
        """The current pack state."""
        return self._progress.state

    def _require(self, action: str, allowed: Iterable[PackState], message: Text) -> None:
        if self.state not in set(allowed):
            raise IllegalTransition(action, self.state.value, message)

    def _box_type(self, box_type: str) -> str:
        name = box_type.strip().upper()
        if name not in self.box_weights:
            raise UnknownBoxType(box_type, tuple(self.box_weights))
        return name

    # ------------------------------------------------------------------ step building

    def _event(self, type: MutationType, payload: Payload) -> PackEvent:
        order = self._progress.order
        if order is None:  # every caller has checked the state; this is a bug guard
            raise RuntimeError("pack event without an open order")
        return PackEvent(type, order.id, payload, order.lease_epoch)

    def _step(
        self,
        outcome: Outcome,
        tone: Tone,
        message: Text,
        *,
        events: tuple[PackEvent, ...] = (),
        progress: PackProgress | None = None,
        line_id: int | None = None,
        command: Command | None = None,
    ) -> Step:
        """A step whose progress is `progress` (default: current) with `events` folded in.

        A red step keeps the current progress whatever else is passed: bad input changes
        nothing, which the tests check as an invariant.
        """
        if tone == "red":
            new = self._progress
        else:
            new = progress if progress is not None else self._progress
            for event in events:
                new = apply_event(new, event, self.default_box_type)
        return Step(
            state=new.state,
            events=events,
            outcome=outcome,
            tone=tone,
            message=message,
            progress=new,
            line_id=line_id,
            command=command,
            base=self._progress,
        )

    def _scan_event(
        self,
        scan: Scan,
        outcome: ScanOutcome,
        line: LineView | None = None,
        serial: str | None = None,
        code: str | None = None,
        sku: str | None = None,
        match: Match | None = None,
    ) -> PackEvent:
        progress = self._progress
        return self._event(
            MutationType.SCAN_RECORDED,
            ScanRecorded(
                code=(code if code is not None else scan.text)[:MAX_CODE],
                outcome=outcome,
                line_id=line.line_id if line else None,
                sku=line.sku if line else sku,
                serial=serial,
                box_no=progress.box.box_no,
                packer_id=self.packer_id,
                lot=match.lot if match else None,
                expiry=match.expiry if match else None,
            ),
        )

    @staticmethod
    def _progress_message(progress: PackProgress, line_id: int) -> Text:
        """What an accepted item means for the packer, and what to do next."""
        assert progress.order is not None
        line = progress.order.line(line_id)
        assert line is not None
        done = progress.scanned(line_id)
        scanned = Msg(
            "Scanned {done} of {quantity} × {product}.",
            done=done,
            quantity=line.quantity,
            product=line.name,
        )
        if progress.complete:
            return join(scanned, Msg("All items are scanned; put the box on the scale."))
        return join(scanned, Msg("Scan the next item."))
