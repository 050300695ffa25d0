"""Supervisor actions at the bench: overrides and reprints, with who, when and why.

An override works from the scanner alone: the supervisor scans their badge at a blocked
order, types their PIN, then scans a reason barcode from their card. The PIN's key signs the
override (sync.pins), so the service can tell at sync that the supervisor was really there.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from app.i18n import Msg, join
from app.packing.errors import PackingError
from app.packing.events import PackEvent
from app.packing.step import Step
from app.packing.weighing_steps import OverrideKind
from app.station.auth import PinVerdict, refusal
from app.station.base import RuntimeBase
from app.station.ports import UserRecord
from sync import pins
from sync.protocol import MutationType, OverrideGranted

log = logging.getLogger(__name__)

# Override reasons a supervisor can scan from their card, so an override needs no keyboard.
# Codes are kept short so the barcode keeps its quiet zones on the printed sheet.
OVERRIDE_PREFIX = "PB:OVR:"
OVERRIDE_REASONS = {
    "PACKAGING": "Extra packaging material (checked by supervisor)",
    "CHECKED": "Contents checked by supervisor; weight accepted",
    "CATALOGUE": "Catalogue weight is wrong; to be corrected",
    "SERIAL": "Serial number label unreadable; checked by supervisor",
}
OVERRIDE_CAPTIONS = {
    "PACKAGING": "Override: extra packaging",
    "CHECKED": "Override: contents checked",
    "CATALOGUE": "Override: catalogue weight wrong",
    "SERIAL": "Override: serial unreadable",
}


def signed_override(event: PackEvent, station_id: int, key: bytes) -> PackEvent:
    """An override_granted event with its proof (sync.pins); any other event unchanged."""
    payload = event.payload
    if event.type is not MutationType.OVERRIDE_GRANTED or not isinstance(payload, OverrideGranted):
        return event
    message = pins.override_message(
        station_id=station_id,
        order_id=event.order_id,
        supervisor_id=payload.supervisor_id,
        kind=payload.kind,
        reason=payload.reason,
        details=payload.model_dump(mode="json")["details"],
    )
    proof = pins.sign_override(key, message)
    return PackEvent(
        event.type, event.order_id, payload.model_copy(update={"proof": proof}), event.lease_epoch
    )


class SupervisorActions(RuntimeBase):
    """Overrides and reprints; mixed into StationRuntime."""

    def _open_supervisor_session(self, user: UserRecord, pin: str) -> None:
        """Sign the supervisor in at the service too, for the supervisor screen."""
        if self.supervisor_signed_in is not None:
            self.supervisor_signed_in(user, pin)  # returns at once; the network call is queued

    def _end_supervisor_session(self, user: UserRecord) -> None:
        """End the supervisor's service session at logout (best effort)."""
        if self.supervisor_signed_out is not None:
            self.supervisor_signed_out(user)

    def _blocked(self) -> bool:
        """Whether the open order waits for a supervisor (rejected weight, missing serial)."""
        progress = self.session.progress
        if not progress.boxes:
            return False
        return (
            self._reprint_requested
            or progress.box.rejected_grams is not None
            or progress.pending_serial is not None
        )

    def _supervisor_at_bench(self, badge: str) -> None:
        supervisor = self.store.user_by_badge(badge)
        if supervisor is None or supervisor.role != "supervisor" or not supervisor.active:
            self._show(
                "red", Msg("That badge is not a supervisor's. Ask a supervisor to scan theirs.")
            )
            return
        if self.override_requires_pin:
            if supervisor.pin is None:
                self._show(
                    "red", Msg("This supervisor badge has no PIN set; ask an admin to set one.")
                )
                return
            self._pending_user = supervisor
            self._pin_for_override = True
            self._show(
                "amber",
                Msg("{name}, type your PIN to confirm.", name=supervisor.name),
                ask_pin_for=supervisor.badge,
            )
            return
        self._supervisor_confirmed(supervisor)

    def _supervisor_confirmed(self, supervisor: UserRecord) -> None:
        """Badge (and PIN where asked) checked: reprint, or wait for the override reason."""
        if self._reprint_requested:
            self._do_reprint(supervisor, f"Reprint at the bench, confirmed by {supervisor.name}")
            return
        self._override_by = supervisor
        self._show(
            "amber", Msg("{name}: scan an override reason from your card.", name=supervisor.name)
        )

    def _scanned_override(self, text: str) -> None:
        supervisor = self._override_by
        if supervisor is None:
            self._show("red", Msg("A supervisor must scan their badge before an override reason."))
            return
        code = text.strip().upper().removeprefix(OVERRIDE_PREFIX)
        reason = OVERRIDE_REASONS.get(code)
        if reason is None:
            self._show(
                "red", Msg("That override reason is not on the card; scan one from the card.")
            )
            return
        self._override_by = None
        key, self._override_key = self._override_key, None
        self._grant_override(supervisor, reason, key)

    def override(self, badge: str, pin: str, reason: str) -> None:
        """A supervisor lets a blocked weight (or serial) through; who, when and why recorded."""
        supervisor = self.store.user_by_badge(badge)
        if supervisor is None or supervisor.role != "supervisor" or not supervisor.active:
            self._show(
                "red", Msg("That badge is not a supervisor's. Ask a supervisor to scan theirs.")
            )
            return
        result = self.pins.check(supervisor, pin)
        if result.verdict is not PinVerdict.RIGHT:
            self._show("red", join(refusal(result), Msg("Nothing was overridden.")))
            return
        self._grant_override(supervisor, reason, result.key)

    def _signed(self, step: Step, key: bytes | None) -> Step:
        """The step with its override event signed by the supervisor's PIN key (if typed)."""
        if key is None:
            return step  # badge only (override PIN switched off): the service decides
        station_id = self.store.station_id
        return replace(step, events=tuple(signed_override(e, station_id, key) for e in step.events))

    def _grant_override(self, supervisor: UserRecord, reason: str, key: bytes | None) -> None:
        kind = (
            OverrideKind.SERIAL
            if self.session.progress.pending_serial is not None
            else OverrideKind.WEIGHT
        )
        try:
            step = self.session.override(supervisor.id, reason, kind)
        except PackingError as exc:
            self._show("red", str(exc))
            return
        log.info("override kind=%s by supervisor=%s reason=%r", kind, supervisor.id, reason)
        self._adopt_step(self._signed(step, key))

    def reprint(self, badge: str, pin: str, reason: str) -> None:
        """Reprint the current box's label after a supervisor confirmed why."""
        supervisor = self.store.user_by_badge(badge)
        if supervisor is None or supervisor.role != "supervisor":
            self._show("red", Msg("A reprint needs a supervisor's badge."))
            return
        result = self.pins.check(supervisor, pin)
        if result.verdict is not PinVerdict.RIGHT:
            self._show("red", join(refusal(result), Msg("Nothing was reprinted.")))
            return
        self._do_reprint(supervisor, reason)

    def request_reprint(self) -> None:
        """PB:REPRINT: wait for a supervisor's badge (no keyboard needed) or F4."""
        progress = self.session.progress
        if self.order is None or not any(b.labelled for b in progress.boxes):
            self._show("red", Msg("There is no printed label to reprint yet."))
            return
        self._reprint_requested = True
        self._show("amber", Msg("A supervisor scans their badge to confirm the reprint (or F4)."))

    def _do_reprint(self, supervisor: UserRecord, reason: str) -> None:
        self._reprint_requested = False
        progress = self.session.progress
        labelled = [b.box_no for b in progress.boxes if b.labelled]
        if self.order is None or not labelled:
            self._show("red", Msg("There is no printed label to reprint yet."))
            return
        box_no = labelled[-1]
        try:
            job = self.labels.reprint_label(self.order, box_no, supervisor.id, reason)
        except LookupError as exc:
            self._show("red", join(str(exc), Msg("Print it from the supervisor screen instead.")))
            return
        log.info("reprint box=%s by supervisor=%s reason=%r", box_no, supervisor.id, reason)
        self._label_jobs[job] = (box_no, True)
        self._reprint_reason = reason
        # TRANSLATORS: box = shipping carton
        self._show("amber", Msg("Reprinting the label for box {box}…", box=box_no))
