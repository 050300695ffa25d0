"""`PackEvent`: one durable fact the session asks the caller to record in the outbox.

The payload is the wire model from `sync.protocol`, so what the station records is exactly
what it later pushes; there is no second schema to keep in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sync.protocol import (
    PAYLOAD_MODELS,
    ClaimReleased,
    ExceptionRaised,
    LabelPrinted,
    MutationType,
    OrderPacked,
    OverrideGranted,
    ParcelClosed,
    ReturnClosed,
    ReturnUnitReceived,
    ScanRecorded,
    StockCounted,
    UserLanguageSet,
    WeightRecorded,
)

Payload = (
    ScanRecorded
    | WeightRecorded
    | ParcelClosed
    | LabelPrinted
    | OrderPacked
    | ExceptionRaised
    | OverrideGranted
    | ClaimReleased
    | ReturnUnitReceived
    | ReturnClosed
    | StockCounted
    | UserLanguageSet
)


@dataclass(frozen=True, slots=True)
class PackEvent:
    """A mutation to record: `type` and `payload` as pushed, plus the order and lease epoch
    (`order_id` None only for a mutation about no order: a cycle count)."""

    type: MutationType
    order_id: int | None
    payload: Payload
    lease_epoch: int | None = None

    def __post_init__(self) -> None:
        # A payload of the wrong model would be refused by the service much later, after
        # the packer saw green; fail at the point of the bug instead.
        if not isinstance(self.payload, PAYLOAD_MODELS[self.type]):
            raise TypeError(f"{self.type} needs {PAYLOAD_MODELS[self.type].__name__}")

    def payload_json(self) -> dict[str, Any]:
        """The payload as the JSON-ready dict the outbox stores and the push sends."""
        return self.payload.model_dump(mode="json")

    @classmethod
    def from_record(
        cls,
        type: str,
        order_id: int,
        payload: Mapping[str, Any],
        lease_epoch: int | None = None,
    ) -> PackEvent:
        """Rebuild an event from a stored outbox/event-log row (validates the payload)."""
        mutation_type = MutationType(type)
        model = PAYLOAD_MODELS[mutation_type].model_validate(dict(payload))
        return cls(mutation_type, order_id, model, lease_epoch)  # type: ignore[arg-type]
