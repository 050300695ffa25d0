"""State shared by the station runtime and its mixins (supervision, parcels)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from app.packing.session import PackSession
from app.packing.step import Step
from app.packing.weight_rules import WeightPolicy
from app.station.auth import PinChecker
from app.station.ports import (
    Background,
    Claims,
    LabelPrinting,
    OrderRecord,
    StationStore,
    UserRecord,
)
from app.station.screen import ScreenModel, StatusInfo, Tone
from app.weighing.capture import BoxWeighing


class RuntimeBase:
    """Attributes and the two primitives (`_show`, `_adopt_step`) every part relies on."""

    store: StationStore
    claims: Claims
    labels: LabelPrinting
    background: Background
    on_change: Callable[[ScreenModel], None]
    clock: Callable[[], datetime]
    require_pin: bool
    allow_manual_weight: bool
    weight_policy: WeightPolicy
    override_requires_pin: bool
    session: PackSession
    capture: BoxWeighing
    user: UserRecord | None
    order: OrderRecord | None
    status: StatusInfo
    model: ScreenModel
    _override_by: UserRecord | None
    _pin_for_override: bool
    _override_key: bytes | None
    pins: PinChecker
    supervisor_signed_in: Callable[[UserRecord, str], object] | None
    supervisor_signed_out: Callable[[UserRecord], object] | None
    _pending_user: UserRecord | None
    _label_jobs: dict[int, tuple[int, bool]]
    _capture_key: tuple[int, int] | None
    _reprint_reason: str
    _reprint_requested: bool
    _awaiting_label: tuple[int, tuple[int, ...]] | None  # order id, boxes waiting for labels
    _said: object  # the message on screen before rendering (re-rendered on a language switch)

    def _new_session(self, packer_id: int | None = None) -> PackSession:
        """A pack session with this station's weight settings and learned weights."""
        return PackSession(
            self.store.catalog,
            weight_policy=self.weight_policy,
            weight_profiles=self.store.weight_profile,
            packer_id=packer_id,
        )

    def _show(self, tone: Tone, message: object, **changes: object) -> None:
        """Show `message` (an app.i18n Msg, a Joined or a plain str) in the current language."""
        raise NotImplementedError

    def _adopt_step(self, step: Step) -> None:
        raise NotImplementedError

    def set_status(self, **changes: object) -> None:
        raise NotImplementedError

    def _supervisor_confirmed(self, supervisor: UserRecord) -> None:
        raise NotImplementedError
