"""`StationRuntime`: one packer's flow at one station, driven by scans.

It runs on the GUI thread. Device threads reach it only through the Qt bridge; network work
(claims) goes through the injected `background` runner and comes back as a callback. Every
pack-session step is recorded in the local store *before* it is adopted and shown, so green
on screen always means saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from app import i18n
from app.counting.session import is_enter_count
from app.i18n import N_, Msg, join
from app.packing import messages
from app.packing.commands import Command, CommandName, parse_command
from app.packing.errors import PackingError
from app.packing.events import PackEvent
from app.packing.progress import PackState
from app.packing.step import Outcome, Step
from app.packing.weight_rules import DEFAULT_POLICY, WeightPolicy
from app.returns.commands import is_enter_returns
from app.scanning.scan import Scan, ScanKind
from app.station.auth import PinChecker, PinVerdict, refusal
from app.station.autocomplete import AutoComplete
from app.station.count_desk import CountDesk
from app.station.holds import LabelledHolds
from app.station.instruction import standing_instruction
from app.station.parcels import ParcelFlow
from app.station.ports import (
    Background,
    ClaimRefused,
    Claims,
    LabelPrinting,
    Offline,
    OrderRecord,
    StationStore,
    UserRecord,
)
from app.station.present import order_parts
from app.station.return_labels import ReturnLabels
from app.station.returns_desk import ReturnsDesk, ReturnsLookup
from app.station.screen import (
    Screen,
    ScreenModel,
    StatusInfo,
    Tone,
)
from app.station.slips import PackingSlips, SlipFlow
from app.station.supervision import OVERRIDE_PREFIX, SupervisorActions
from app.weighing.capture import BoxWeighing
from sync.clock import utcnow
from sync.languages import LANGUAGES, normalise
from sync.protocol import HoldReason, MutationType, UserLanguageSet

log = logging.getLogger(__name__)

WELCOME = N_("Scan your badge to start.")
# `PB:LANG:<code>` (the command sheet has one per language): the person logged in chooses
# the language the station speaks to them, here and, once synced, at every station.
LANGUAGE_PREFIX = "PB:LANG:"
_BETWEEN_ORDERS = (PackState.IDLE, PackState.PACKED, PackState.HELD)


class StationRuntime(SupervisorActions, ParcelFlow, AutoComplete, LabelledHolds, SlipFlow):
    """The packer's flow: login, open an order, verify, weigh, label, close."""

    def __init__(
        self,
        store: StationStore,
        claims: Claims,
        labels: LabelPrinting,
        background: Background,
        on_change: Callable[[ScreenModel], None],
        *,
        require_pin: bool = False,
        allow_manual_weight: bool = False,
        weight_policy: WeightPolicy = DEFAULT_POLICY,
        override_requires_pin: bool = True,
        auto_complete: bool = True,
        slips: PackingSlips | None = None,
        clock: Callable[[], datetime] = utcnow,
        pin_checker: PinChecker | None = None,
        supervisor_signed_in: Callable[[UserRecord, str], object] | None = None,
        supervisor_signed_out: Callable[[UserRecord], object] | None = None,
        returns_lookup: ReturnsLookup | None = None,
        return_labels: ReturnLabels | None = None,
        language_changed: Callable[[str], object] | None = None,
    ) -> None:
        self.store = store
        self.claims = claims
        self.labels = labels
        self.background = background
        self.on_change = on_change
        self.require_pin = require_pin
        self.allow_manual_weight = allow_manual_weight
        self.weight_policy = weight_policy
        self.override_requires_pin = override_requires_pin
        self.auto_complete = auto_complete
        self.slips = slips
        self._override_by: UserRecord | None = None  # a supervisor at the bench, by badge scan
        self._pin_for_override = False
        self._override_key: bytes | None = None  # K of the PIN typed for the override
        self.clock = clock
        self.pins = pin_checker or PinChecker(None, clock)
        # Open / end a supervisor's service session (SupervisorSessions); they return at once.
        self.supervisor_signed_in = supervisor_signed_in
        self.supervisor_signed_out = supervisor_signed_out
        # Called with the new language code whenever the station switches language (a badge
        # login, a logout, PB:LANG): the views retranslate their own labels. The screen
        # model's texts are already rendered in the new language when on_change follows.
        self.language_changed = language_changed
        # Languages chosen here with PB:LANG, until the synced user list says the same.
        self._chosen_language: dict[int, str] = {}
        self._said: object = Msg(WELCOME)  # the message on screen, unrendered (Msg or str)
        self.session = self._new_session()
        self.capture = BoxWeighing()
        self.user: UserRecord | None = None
        self.order: OrderRecord | None = None
        self.status = StatusInfo()
        self._pending_user: UserRecord | None = None
        self._claiming: str | None = None
        self._label_jobs: dict[int, tuple[int, bool]] = {}  # job id -> (box_no, reprint)
        self._reprint_reason = ""
        self._reprint_requested = False
        self._awaiting_label: tuple[int, tuple[int, ...]] | None = None
        self._last_line: int | None = None
        # One capture for the whole shift: a new order must not take the weight the scale
        # still shows for the previous parcel (the capture waits for the platter to clear).
        self._capture_key: tuple[int, int] | None = None
        self.model = ScreenModel(
            Screen.LOGIN, "amber", i18n._(WELCOME), next_step=i18n.render(messages.next_login())
        )
        self.returns = ReturnsDesk(store, returns_lookup, background, self._show, return_labels)
        self.counting = CountDesk(store, self._show, lambda: self.status.online)

    # ------------------------------------------------------------------ output

    @property
    def said(self) -> object:
        """The message on screen as it was meant (a Msg, a Joined or a str), not rendered."""
        return self._said

    def _show(self, tone: Tone, message: object, **changes: object) -> None:
        """Show `message` (a Msg, a Joined or a plain str) in the current language."""
        screen = self._screen()
        self._said = message
        self.model = replace(
            self.model,
            screen=screen,
            tone=tone,
            message=i18n.render(message),
            user_name=self.user.name if self.user else "",
            user_role=self.user.role if self.user else "",
            status=replace(self.status, queue_depth=self._queue_depth()),
            **order_parts(self.session, self.order, self._last_line, self.model.lines),  # type: ignore[arg-type]
            **changes,  # type: ignore[arg-type]
        )
        self.model = replace(self.model, next_step=i18n.render(standing_instruction(self)))
        log.info("screen %s %s: %s", screen.value, tone, i18n.render(message, "en"))
        self.on_change(self.model)

    def _queue_depth(self) -> int:
        try:
            return self.store.queue_depth()
        except Exception:  # the status bar must never take the screen down
            log.exception("queue depth unavailable")
            return self.status.queue_depth

    def _screen(self) -> Screen:
        if self.user is None:
            return Screen.LOGIN
        if self.order is not None and self.session.state is not PackState.IDLE:
            return Screen.PACK
        if self.user.role == "supervisor":  # only a supervisor login ever gets this screen
            return Screen.SUPERVISOR
        return Screen.BATCHES

    def refresh(self) -> None:
        """Re-render with the current message (after status, cache or language changes)."""
        self._show(self.model.tone, self._said)

    # ------------------------------------------------------------------ language

    def _speak(self, code: str | None) -> str:
        """Switch to a person's language (None: the site's); tells the views when it changed."""
        before = i18n.current()
        now = i18n.set_language(code)
        if now != before:
            log.info("station language %s -> %s", before, now)
            if self.language_changed is not None:
                self.language_changed(now)
        return now

    def _language_of(self, user: UserRecord) -> str | None:
        """The person's language: the one chosen here until the synced list caught up."""
        chosen = self._chosen_language.get(user.id)
        if chosen is not None and chosen == user.language:
            del self._chosen_language[user.id]  # the service has it: the list is the truth
        return chosen or user.language

    def _choose_language(self, text: str) -> None:
        """`PB:LANG:<code>`: speak the person's language now and remember it for them on
        the service (a durable, idempotent outbox event). An unknown code changes nothing."""
        assert self.user is not None
        raw = text.strip()[len(LANGUAGE_PREFIX) :].strip()
        code = normalise(raw) if raw.isascii() and len(raw) <= 16 else None
        if code is None:
            self._show(
                "red",
                Msg(
                    "{code} is not a language this station knows. Nothing was changed; "
                    "scan a language from the command sheet.",
                    code=raw or "?",
                ),
            )
            return
        event = PackEvent(
            MutationType.USER_LANGUAGE_SET,
            None,
            UserLanguageSet(user_id=self.user.id, language=code),
        )
        try:
            self.store.record([event])
        except Exception:
            log.exception("could not record the language of user %s", self.user.id)
            self._show("red", Msg("Could not save your language. Nothing was changed."))
            return
        self._chosen_language[self.user.id] = code
        self.user = replace(self.user, language=code)
        self._speak(code)
        self._show(
            "green",
            # TRANSLATORS: {language} is the language's own name, e.g. "Polski", "Română".
            Msg("This station now speaks {language} to you.", language=LANGUAGES[code]),
        )

    # ------------------------------------------------------------------ scans

    def recognise(self, scan: Scan) -> Scan:
        """A code in the synced user list is a badge, whatever its shape.

        The scanner's BADGE pattern only guesses; any code an operator gives a user works
        (the service refuses badges that collide with product, order or command codes).
        """
        if scan.kind in (ScanKind.BADGE, ScanKind.COMMAND, ScanKind.INVALID):
            return scan
        if self.store.user_by_badge(scan.text) is not None:
            return replace(scan, kind=ScanKind.BADGE)
        return scan

    def handle_scan(self, scan: Scan) -> None:
        """Route one scan by what the screen is waiting for."""
        packing_item = (
            self.order is not None
            and scan.kind in (ScanKind.PRODUCT, ScanKind.GS1)
            and not self._blocked()
        )
        if not packing_item:  # item scans while packing skip the lookup (scan latency)
            scan = self.recognise(scan)
        try:
            self._route(scan)
        except PackingError as exc:
            self._show("red", str(exc))

    def _route(self, scan: Scan) -> None:
        if scan.kind is ScanKind.INVALID and self.order is None:
            reason = scan.reason or Msg("That barcode could not be read.")
            self._show("red", join(reason, Msg("Scan it again.")))
            return
        if self.user is None:
            self._login_scan(scan)
            return
        if scan.text.strip().upper().startswith(LANGUAGE_PREFIX):
            self._choose_language(scan.text)
            return
        idle = self.order is None or self.session.state in _BETWEEN_ORDERS
        if idle:
            self._switch_mode(scan.text)
        # The mode that is on takes every scan; otherwise its command turns a mode on.
        desk: ReturnsDesk | CountDesk | None = None
        if idle and not self.counting.active and self.returns.wants(scan.text):
            desk = self.returns
        elif idle and self.counting.wants(scan.text):
            desk = self.counting
        if desk is not None:
            if desk.handle(scan.text, self.user.id):
                self.logout()
            return
        if self.order is not None and self._blocked():
            if scan.kind is ScanKind.BADGE:
                self._supervisor_at_bench(scan.text)
                return
            if scan.text.strip().upper().startswith(OVERRIDE_PREFIX):
                self._scanned_override(scan.text)
                return
        if scan.kind is ScanKind.COMMAND:
            command = parse_command(scan.text)  # UnknownCommand is a red PackingError
            if self.order is None or self.session.state is PackState.IDLE:
                self._idle_command(command)
                return
        if self.order is None or self.session.state in (PackState.IDLE,):
            self._idle_scan(scan)
            return
        if scan.kind in (ScanKind.ORDER, ScanKind.TOTE) and (
            self.session.state in (PackState.PACKED, PackState.HELD) or self._finish_if_complete()
        ):
            self._open_by_code(scan.text)
            return
        step = self.session.scan(scan)
        self._adopt_step(step)

    def _switch_mode(self, text: str) -> None:
        """`PB:COUNT` between two return parcels, or `PB:RETURNS` between two bins, goes
        straight to the other mode (nothing is open that could be lost)."""
        if self.returns.between_parcels and is_enter_count(text):
            self.returns.leave()
        elif self.counting.between_bins and is_enter_returns(text):
            self.counting.leave()

    def _login_scan(self, scan: Scan) -> None:
        if scan.kind is not ScanKind.BADGE:
            self._show("red", Msg("Nobody is logged in. Scan your badge first."))
            return
        user = self.store.user_by_badge(scan.text)
        if user is None or not user.active:
            self._show(
                "red",
                Msg("This badge is not allowed on this station. Ask a supervisor to add you."),
            )
            return
        if user.role == "supervisor" or self.require_pin:
            if user.pin is not None:
                self._pending_user = user
                self._show(
                    "amber",
                    Msg("Hello {name}. Type your PIN and press Enter.", name=user.name),
                    ask_pin_for=user.badge,
                )
                return
            if user.role == "supervisor":
                self._show(
                    "red", Msg("This supervisor badge has no PIN set; ask an admin to set one.")
                )
                return
        self._log_in(user)

    def submit_pin(self, pin: str) -> None:
        """The PIN typed for the badge scanned last."""
        user = self._pending_user
        if user is None:
            return
        result = self.pins.check(user, pin)
        if self._pin_for_override:
            self._pending_user = None
            self._pin_for_override = False
            if result.verdict is not PinVerdict.RIGHT:
                self._show(
                    "red", join(refusal(result), Msg("Nothing was overridden.")), ask_pin_for=""
                )
                return
            self.model = replace(self.model, ask_pin_for="")
            self._override_key = result.key
            self._supervisor_confirmed(user)
            return
        self._pending_user = None
        if result.verdict is not PinVerdict.RIGHT:
            self._show(
                "red", join(refusal(result), Msg("Scan your badge and try again.")), ask_pin_for=""
            )
            return
        self._log_in(user)
        if user.role == "supervisor":
            self._open_supervisor_session(user, pin)

    def cancel_pin(self) -> None:
        """The PIN prompt was closed without a PIN."""
        self._pending_user = None
        self._show("amber", Msg(WELCOME), ask_pin_for="")

    def _log_in(self, user: UserRecord) -> None:
        self.user = user
        self.session.packer_id = user.id
        language = self._speak(self._language_of(user))
        log.info("login user=%s role=%s language=%s", user.id, user.role, language)
        self._lease_batches()
        self._show(
            "green",
            Msg("Hello {name}. Scan an order or tote barcode.", name=user.name),
            ask_pin_for="",
        )

    def _lease_batches(self) -> None:
        """While online, lease this station's batches so packing survives a network outage.

        Best effort: a refusal or an outage only means orders are claimed one by one later.
        """
        for batch in self.store.batches():

            def claim(batch_id: int = batch.id) -> object:
                return self.claims.claim_batch(batch_id)

            def done(result: object, code: str = batch.code) -> None:
                if isinstance(result, BaseException):
                    log.info("batch %s not leased ahead: %s", code, result)
                else:
                    log.info("batch %s leased ahead: %s orders", code, result)

            self.background(claim, done)

    def logout(self) -> None:
        """Log out; an open order must be finished or held first."""
        if self.order is not None and self.session.state not in (
            PackState.IDLE,
            PackState.PACKED,
            PackState.HELD,
        ):
            self._show("red", Msg("Finish or hold this order before logging out."))
            return
        log.info("logout user=%s", self.user.id if self.user else None)
        if self.user is not None and self.user.role == "supervisor":
            self._end_supervisor_session(self.user)
        self.user = None
        self.order = None
        self.session = self._new_session()
        self.returns.leave()
        self.counting.leave()
        self._speak(None)  # the next person starts in the site's language
        self._show("amber", Msg(WELCOME))

    def _idle_command(self, command: Command) -> None:
        if command.name is CommandName.LOGOUT:
            self.logout()
            return
        self._show("red", Msg("No order is open. Scan an order or tote barcode first."))

    def _idle_scan(self, scan: Scan) -> None:
        if scan.kind in (ScanKind.ORDER, ScanKind.TOTE):
            self._open_by_code(scan.text)
        elif scan.kind is ScanKind.BADGE:
            self._show(
                "amber",
                Msg("Someone is logged in already. Scan {command} first.", command="PB:LOGOUT"),
            )
        else:
            self._show("red", Msg("No order is open. Scan an order or tote barcode first."))

    # ------------------------------------------------------------------ orders

    def _open_by_code(self, code: str) -> None:
        if self._claiming:
            self._show("amber", Msg("Still opening {order}; wait a moment.", order=self._claiming))
            return
        record = self.store.order_by_code(code)
        if record is None:
            self._show(
                "red",
                Msg(
                    "{code} is not an order for this station. "
                    "Check the barcode or ask a supervisor.",
                    code=code,
                ),
            )
            return
        view = record.view
        if view.status in ("cancelled",):
            self._show(
                "red",
                Msg(
                    "Order {order} was cancelled. Put it aside for a supervisor.",
                    order=view.number,
                ),
            )
            return
        if view.status in ("packed", "shipped", "delivered", "completed"):
            self._show(
                "red", Msg("Order {order} is already packed. Put it aside.", order=view.number)
            )
            return
        lease = record.lease
        now = self.clock()
        if (
            lease is not None
            and lease.station_id == self.store.station_id
            and lease.expires_at > now
        ):
            self._open(record)
            return
        self._claiming = view.number
        self._show("amber", Msg("Claiming order {order}…", order=view.number))
        order_id = view.id

        def claim() -> object:
            return self.claims.claim_order(order_id)

        self.background(claim, lambda result: self._claim_done(order_id, result))

    def _claim_done(self, order_id: int, result: object) -> None:
        number = self._claiming or str(order_id)
        self._claiming = None
        if isinstance(result, ClaimRefused):
            self._show("red", join(str(result), Msg("Put order {order} aside.", order=number)))
            return
        if isinstance(result, Offline):
            self._show(
                "red",
                Msg(
                    "Offline: order {order} is not leased to this station, so it cannot be "
                    "packed until the connection is back. Pack an order from your batch.",
                    order=number,
                ),
            )
            return
        if isinstance(result, BaseException):
            log.error("claim of order %s failed: %r", order_id, result)
            self._show(
                "red",
                Msg(
                    "Could not claim order {order}: {error}. Try again.",
                    order=number,
                    error=result,
                ),
            )
            return
        record = self.store.order_by_id(order_id)
        if record is None:
            self._show(
                "red",
                Msg("Order {order} is no longer assigned here; ask a supervisor.", order=number),
            )
            return
        self._open(record)

    def _open(self, record: OrderRecord) -> None:
        view = record.view
        if record.lease is not None:
            view = replace(view, lease_epoch=record.lease.epoch)
            record = replace(record, view=view)
        if self.session.state is not PackState.IDLE:
            self.session = self._new_session(self.session.packer_id)
        recorded = list(self.store.order_events(view.id))
        self.order = record
        self._last_line = None
        step = self.session.restore(view, recorded) if recorded else self.session.open_order(view)
        self.session.apply(step)
        self._show(step.tone, step.message)
        self._after_state_change()  # may say more: a label waiting, a print that failed

    # ------------------------------------------------------------------ steps

    def _adopt_step(self, step: Step) -> None:
        """Record a step's events durably, then adopt it; carry out a scanned command."""
        if step.command is not None and step.outcome is Outcome.COMMAND:
            self._run_command(step.command)
            return
        if step.outcome is Outcome.CHOOSE_HOLD_REASON:
            self._show("amber", step.message, ask_hold_reason=True)
            return
        if step.outcome in (
            Outcome.OPEN_ORDER,
            Outcome.SWITCH_ORDER,
            Outcome.ALREADY_OPEN,
            Outcome.BADGE,
            Outcome.NO_ORDER,
        ):
            self._show(step.tone, step.message)
            return
        if not self._record(step):
            return
        before = self.session.progress
        self.session.apply(step)
        message: object = step.message
        if step.outcome is Outcome.HELD:
            message = join(step.message, self._labels_at_hold(before))
        if step.outcome is Outcome.PACKED:
            self._order_packed()
        if step.outcome is Outcome.REWEIGH:
            self._reweighing()
        if step.line_id is not None:
            self._last_line = step.line_id
        self._show(step.tone, message)
        self._after_state_change()  # may say more: a label waiting, a print that failed
        self._finish_if_complete()

    def _record(self, step: Step) -> bool:
        if not step.events:
            return True
        epoch = self.order.lease.epoch if self.order and self.order.lease else None
        events = [replace(e, lease_epoch=epoch) for e in step.events]
        try:
            self.store.record(events)
        except Exception as exc:
            log.exception("could not record %d events", len(events))
            self._show(
                "red", Msg("Could not save ({error}). Nothing was counted; scan again.", error=exc)
            )
            return False
        return True

    def _run_command(self, command: Command) -> None:
        """The commands the pack session leaves to the station (the others are steps)."""
        if command.name is CommandName.REPRINT:
            self.request_reprint()
        elif command.name is CommandName.LOGOUT:
            self.logout()

    def hold(self, reason: HoldReason | str, text: str = "") -> None:
        """Put the open order on hold (from the hold dialog or a PB:HOLD:<REASON> scan)."""
        try:
            self._adopt_step(self.session.hold(reason, text))
        except PackingError as exc:
            self._show("red", str(exc))

    def set_status(self, **changes: object) -> None:
        """Update the status bar (sync engine and devices) and re-render."""
        self.status = replace(self.status, **changes)  # type: ignore[arg-type]
        self.model = replace(
            self.model, status=replace(self.status, queue_depth=self._queue_depth())
        )
        self.on_change(self.model)
