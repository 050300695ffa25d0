"""Sync protocol v1: the wire schemas shared by the station (`sync/`) and the service.

Everything that crosses the network between a packing station and the central order
service is one of these pydantic models. The service imports this module and nothing else
from `sync`. Changing a model here is a protocol change: bump `PROTOCOL_VERSION` when an
old station could no longer talk to a new service.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

# 2: pulls may carry `weight_profile` changes; the service sends them only to stations that
# announce 2 or more in PROTOCOL_HEADER, so an older station keeps syncing.
# 3: order snapshots may carry `packing_slip`, `pickup_point`, `cod_amount` and `currency`;
# the service sends them only to stations that announce 3 or more (ORDER_FIELDS_V3).
# The `stock_counted` mutation (a cycle count at the bench) was added compatibly within 2: a
# service that does not know it answers `unknown_type` for that mutation alone (a stored
# rejection, the queue moves on).
# `ReturnLookup.applied_through` was added compatibly within 3: the service sends it only to
# a station that asks (`applied=1`) and leaves out empty fields of the lookup.
# 4: user snapshots may carry `language` (the person's own, None = the site's); the service
# sends it only to stations that announce 4 or more (USER_FIELDS_V4). The `user_language_set`
# mutation (a person picks their language at the bench) was added with it; an older service
# answers `unknown_type` for that mutation alone. Also with 4: order snapshots may carry
# `language` (the order's papers print in it, ORDER_FIELDS_V4) and claim refusals `code` and
# `params` (CLAIM_FIELDS_V4); a station before 4 refuses unknown fields, so it gets neither.
PROTOCOL_VERSION = 4
PROTOCOL_HEADER = "X-Packbench-Protocol"
MAX_MUTATIONS_PER_PUSH = 500
MAX_PUSH_BYTES = 1024 * 1024  # equal to the service-wide body cap (service/api/app.py)


# Every integer a station sends: a JSON number that is a whole number (not `true`, not "3",
# not 3.0) within the service's INTEGER columns, so a corrupt value is a 422 naming the
# field, never a database error.
WireInt = Annotated[int, Strict(), Field(ge=-(2**31), le=2**31 - 1)]

# The type a station pushes in place of a mutation the service refused outright (a 4xx for
# the whole push): the service records it as rejected, so the ids stay gap-free and the
# queue moves on; the original stays in the station's mutation log (docs/security.md,
# "Input limits").
SET_ASIDE_TYPE = "set_aside"


class _Wire(BaseModel):
    """Base for wire models: unknown fields are refused so typos surface as 422s."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- enrolment


class EnrollRequest(_Wire):
    """A station trades a one-time enrolment code for its long-lived token."""

    code: Annotated[str, Field(min_length=4, max_length=64)]
    app_version: str = ""
    # X25519 public key (sync.pins) the station's PIN verifiers are sealed to. Optional for
    # old stations: without it a pull carries no verifiers and PINs are checked online only.
    pin_public_key: Annotated[str, Field(min_length=40, max_length=64)] | None = None


class EnrollResponse(_Wire):
    station_id: int
    station_name: str
    token: str


class StationMe(_Wire):
    """What the service knows about the calling station."""

    station_id: int
    station_name: str
    last_mutation_id: int
    server_time: datetime
    protocol_version: int = PROTOCOL_VERSION


class Heartbeat(_Wire):
    """Station health figures, sent periodically so supervisors see a silent station."""

    queue_depth: WireInt = 0
    print_queue_depth: WireInt = 0
    offline_since: datetime | None = None
    devices: dict[str, str] = Field(default_factory=dict)
    app_version: str = ""
    packer_id: WireInt | None = None


# --------------------------------------------------------------------------- push


class MutationType(StrEnum):
    SCAN_RECORDED = "scan_recorded"
    WEIGHT_RECORDED = "weight_recorded"
    PARCEL_CLOSED = "parcel_closed"
    LABEL_PRINTED = "label_printed"
    ORDER_PACKED = "order_packed"
    EXCEPTION_RAISED = "exception_raised"
    OVERRIDE_GRANTED = "override_granted"
    CLAIM_RELEASED = "claim_released"
    RETURN_UNIT_RECEIVED = "return_unit_received"
    RETURN_CLOSED = "return_closed"
    STOCK_COUNTED = "stock_counted"  # no order: a cycle count of one location
    USER_LANGUAGE_SET = "user_language_set"  # no order: a person picked their language


class ScanOutcome(StrEnum):
    ACCEPTED = "accepted"
    OVER_SCAN = "over_scan"
    NOT_IN_ORDER = "not_in_order"
    UNKNOWN_CODE = "unknown_code"
    INVALID = "invalid"
    DUPLICATE = "duplicate"


class ScanRecorded(_Wire):
    code: str
    outcome: ScanOutcome
    line_id: WireInt | None = None
    sku: str | None = None
    serial: str | None = None
    box_no: WireInt = 1
    packer_id: WireInt | None = None
    # Batch/lot (GS1 AI 10) and expiry date (AI 17) of the item, when its barcode carries them:
    # the trace from a recalled lot to the parcels it went into.
    lot: Annotated[str, Field(max_length=20)] | None = None
    expiry: date | None = None


class WeightRecorded(_Wire):
    box_no: WireInt
    grams: WireInt
    expected_grams: WireInt | None = None
    tolerance_grams: WireInt | None = None
    rule: str = ""
    within: bool
    manual: bool = False
    packer_id: WireInt | None = None


class ParcelItem(_Wire):
    line_id: WireInt
    quantity: Annotated[WireInt, Field(ge=1)]
    serials: list[str] = Field(default_factory=list)


class ParcelClosed(_Wire):
    box_no: Annotated[WireInt, Field(ge=1)]
    box_type: str
    weight_grams: WireInt | None = None
    items: list[ParcelItem]
    packer_id: WireInt | None = None
    # How the weight was taken, for the service's weight learning: an empty box's weight as
    # the station knows it (None: unknown), a typed-in weight (never learned from), and a
    # weight a supervisor let through after it was flagged.
    box_grams: Annotated[WireInt, Field(ge=0)] | None = None
    manual: bool = False
    overridden: bool = False


class LabelPrinted(_Wire):
    box_no: WireInt
    label_id: WireInt | None = None
    tracking_number: str | None = None
    reprint: bool = False
    reason: str = ""
    packer_id: WireInt | None = None


class OrderPacked(_Wire):
    boxes: Annotated[WireInt, Field(ge=1)]
    packer_id: WireInt | None = None


class HoldReason(StrEnum):
    SHORT_PICK = "short_pick"
    DAMAGED_ITEM = "damaged_item"
    WRONG_ITEM_IN_TOTE = "wrong_item_in_tote"
    ADDRESS_PROBLEM = "address_problem"
    OTHER = "other"


class ExceptionRaised(_Wire):
    reason: HoldReason
    text: str = ""
    packer_id: WireInt | None = None


class OverrideGranted(_Wire):
    """A supervisor let something through that the rules would have stopped."""

    kind: str  # e.g. "weight", "unknown_item", "serial"
    supervisor_id: WireInt
    reason: Annotated[str, Field(min_length=3, max_length=500)]
    details: dict[str, Any] = Field(default_factory=dict)
    packer_id: WireInt | None = None
    # sync.pins.sign_override over (station, order, supervisor, kind, reason, details) with the
    # key of the PIN the supervisor typed. The service refuses an override without a valid one.
    proof: Annotated[str, Field(max_length=100)] | None = None


class ClaimReleased(_Wire):
    packer_id: WireInt | None = None


class Disposition(StrEnum):
    """What happens to a unit that came back."""

    RESTOCK = "restock"  # sellable again: back on the shelf
    B_GRADE = "b_grade"  # sold only as second quality
    WRITE_OFF = "write_off"  # destroyed or worthless
    MISSING = "missing"  # expected back, never arrived


class ReturnReason(StrEnum):
    """Why a unit got the disposition it got (the reason barcodes at the bench)."""

    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    NOT_OURS = "not_ours"


class ReturnUnitReceived(_Wire):
    """One unit of a return parcel booked in at the bench with its disposition."""

    # The RMA being received; None for a parcel nobody announced (the service opens one).
    return_code: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    line_id: int
    disposition: Disposition
    reason: ReturnReason | None = None
    code: Annotated[str, Field(max_length=100)] = ""  # what was scanned for the unit
    packer_id: int | None = None


class ReturnClosed(_Wire):
    """The return parcel is done: every unit booked in; the RMA is inspected and closed."""

    return_code: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    packer_id: int | None = None


MAX_COUNT_LINES = 500
MAX_COUNT_UNITS = 1_000_000


class CountLine(_Wire):
    """One product of a cycle count: how many units were found at the location."""

    sku: Annotated[str, Field(min_length=1, max_length=64)]
    counted: Annotated[WireInt, Field(ge=0, le=MAX_COUNT_UNITS)]


class StockCounted(_Wire):
    """A cycle count confirmed at a bench: the products scanned at one location and how many
    of each were found. Products not scanned are not part of the count. Sent without an
    order_id; the service records each difference as one `counted` ledger movement."""

    location: Annotated[str, Field(min_length=1, max_length=32)]
    lines: Annotated[list[CountLine], Field(min_length=1, max_length=MAX_COUNT_LINES)]
    packer_id: WireInt | None = None


class UserLanguageSet(_Wire):
    """A person chose their language at a bench (`PB:LANG:<code>`): the service keeps it on
    the user, so every station speaks it to them. `language` None = back to the site's."""

    user_id: WireInt
    language: Annotated[str, Field(min_length=2, max_length=16)] | None = None


PAYLOAD_MODELS: dict[MutationType, type[_Wire]] = {
    MutationType.SCAN_RECORDED: ScanRecorded,
    MutationType.WEIGHT_RECORDED: WeightRecorded,
    MutationType.PARCEL_CLOSED: ParcelClosed,
    MutationType.LABEL_PRINTED: LabelPrinted,
    MutationType.ORDER_PACKED: OrderPacked,
    MutationType.EXCEPTION_RAISED: ExceptionRaised,
    MutationType.OVERRIDE_GRANTED: OverrideGranted,
    MutationType.CLAIM_RELEASED: ClaimReleased,
    MutationType.RETURN_UNIT_RECEIVED: ReturnUnitReceived,
    MutationType.RETURN_CLOSED: ReturnClosed,
    MutationType.STOCK_COUNTED: StockCounted,
    MutationType.USER_LANGUAGE_SET: UserLanguageSet,
}

# Mutations about no order: pushed with order_id null, never lease-checked.
ORDERLESS_TYPES = frozenset({MutationType.STOCK_COUNTED, MutationType.USER_LANGUAGE_SET})


class Mutation(_Wire):
    """One durable station event. `id` is the station's own gap-free counter, from 1."""

    id: Annotated[WireInt, Field(ge=1)]
    type: str  # validated against MutationType by the service, so unknown types get a reason
    order_id: WireInt | None = None
    lease_epoch: WireInt | None = None
    at: datetime
    payload: dict[str, Any] = Field(default_factory=dict)


class PushRequest(_Wire):
    station_id: WireInt
    mutations: Annotated[list[Mutation], Field(max_length=MAX_MUTATIONS_PER_PUSH)]


class RejectReason(StrEnum):
    CLAIMED_BY_OTHER = "claimed_by_other"
    NO_LEASE = "no_lease"
    ORDER_CANCELLED = "order_cancelled"
    ALREADY_PACKED = "already_packed"
    UNKNOWN_ORDER = "unknown_order"
    UNKNOWN_TYPE = "unknown_type"
    INVALID_PAYLOAD = "invalid_payload"
    ILLEGAL_TRANSITION = "illegal_transition"
    OVERRIDE_UNPROVEN = "override_unproven"
    SET_ASIDE = "set_aside"
    RETURN_REFUSED = "return_refused"
    COUNT_REFUSED = "count_refused"


class MutationResult(_Wire):
    id: int
    status: Literal["applied", "rejected"]
    reason: str | None = None
    message: str | None = None
    result: dict[str, Any] = Field(default_factory=dict)


# What a rejected mutation says, by code: `MutationResult.result["say"]` is
# {"code": ..., "params": {...}} (inside the open `result` dict, so every station version
# reads it), `message` is the English template filled in for stations that do not.
REJECTION_MESSAGES: dict[str, str] = {
    "set_aside": "The station set this event aside because the service could not accept it; "
    "it is kept in the station's log.",
    "unknown_type": "The service does not know the event type {type}. "
    "Update the station software or the service.",
    "malformed": "The {kind} event is malformed ({where}: {problem}).",
    "order_cancelled": "Order {order} was cancelled. Do not ship it; return the items to stock.",
    "already_packed": "Order {order} was already packed. Put this parcel aside for a supervisor.",
    "already_packed_at": "Order {order} was already packed at station {station}. "
    "Put this parcel aside for a supervisor.",
    "batch_elsewhere": "Order {order} belongs to a batch assigned to station {station}. "
    "Stop packing it here; a supervisor can reassign it.",
    "not_claimed": "Order {order} is not claimed by this station. Claim it before packing.",
    "claimed_elsewhere": "Order {order} was claimed by station {station} at {at} UTC. "
    "Stop packing it here.",
    "older_claim": "This event for order {order} was recorded under an older claim "
    "(epoch {epoch}, now {current}). Check the order.",
    "label_not_of_order": "Label {label} is not a label of order {order}.",
    "event_without_order": "A {kind} event needs an order_id.",
    "event_with_order": "A {kind} event has no order_id.",
    "unknown_order": "Order {order} is not known to the service. Put it aside.",
}


class PushResponse(_Wire):
    results: list[MutationResult]
    last_mutation_id: int


class MutationGap(_Wire):
    """409 body when the first new mutation id is not last_mutation_id + 1."""

    error: Literal["mutation_gap"] = "mutation_gap"
    expected: int
    message: str


# --------------------------------------------------------------------------- pull


class LeaseInfo(_Wire):
    order_id: int
    station_id: int
    station_name: str
    epoch: int
    expires_at: datetime


class OrderLineSnapshot(_Wire):
    line_id: int
    line_no: int
    sku: str
    name: str
    quantity: int
    product_id: int | None = None


class AddressSnapshot(_Wire):
    name: str
    company: str = ""
    street1: str
    street2: str = ""
    postcode: str
    city: str
    region: str = ""
    country: str
    phone: str = ""
    email: str = ""


class PickupPointSnapshot(_Wire):
    """The pickup point or locker the customer chose: the carrier's id, its name and address."""

    id: str
    name: str = ""  # name and address as the shop showed it


class OrderSnapshot(_Wire):
    id: int
    number: str
    channel: str
    channel_order_id: str
    status: str
    priority: int = 0
    cutoff_at: datetime | None = None
    carrier: str = ""
    service: str = ""
    country: str = ""
    ship_to: AddressSnapshot | None = None
    batch_id: int | None = None
    tote: str | None = None
    lines: list[OrderLineSnapshot] = Field(default_factory=list)
    lease: LeaseInfo | None = None
    version: int = 1
    # Protocol 3 (ORDER_FIELDS_V3). Whether the order's channel wants a packing slip in the
    # parcel (None: the service did not say, i.e. an older service).
    packing_slip: bool | None = None
    pickup_point: PickupPointSnapshot | None = None
    cod_amount: Decimal | None = None  # cash the courier collects, in `currency`; None: prepaid
    currency: str = ""
    # The language the order's own papers (its packing slip) print in, a sync.languages code;
    # None: the service did not say, the station uses the destination country's.
    language: str | None = None


# The OrderSnapshot fields a station older than protocol 3 does not know (and would refuse).
ORDER_FIELDS_V3 = ("packing_slip", "pickup_point", "cod_amount", "currency")
# Protocol 4: the order's language.
ORDER_FIELDS_V4 = ("language",)


class ProductSnapshot(_Wire):
    id: int
    sku: str
    name: str
    gtins: list[str] = Field(default_factory=list)  # normalised GTIN-14
    aliases: list[str] = Field(default_factory=list)
    weight_grams: int | None = None
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None
    serial_required: bool = False
    image_url: str | None = None
    # A regular expression a serial must match in full (re.fullmatch); None: any serial.
    serial_pattern: str | None = None
    active: bool = True  # an inactive product is no longer sold; orders may still carry it


class PinCheck(_Wire):
    """How a station checks a typed PIN offline (sync.pins): argon2id parameters and salt,
    and the verifier sealed to the station's enrolment key (None if it has none)."""

    salt: str
    time_cost: int
    memory_cost: int
    parallelism: int
    hash_len: int
    sealed_verifier: str | None = None


class UserSnapshot(_Wire):
    id: int
    name: str
    role: Literal["packer", "supervisor"]
    badge: str
    # Never sent any more (an argon2 hash of a short PIN falls to an offline search); kept so
    # old replicas still parse. `pin` replaces it.
    pin_hash: str | None = None
    active: bool = True
    pin: PinCheck | None = None
    # Protocol 4 (USER_FIELDS_V4): the person's language (sync.languages code); None = the
    # station's site language.
    language: str | None = None


USER_FIELDS_V4 = ("language",)


class BatchSnapshot(_Wire):
    id: int
    code: str
    name: str
    status: str
    station_id: int | None = None
    cutoff_at: datetime | None = None
    carrier: str = ""
    order_ids: list[int] = Field(default_factory=list)


class LabelSnapshot(_Wire):
    id: int
    order_id: int
    parcel_no: int
    parcel_count: int = 1
    carrier: str
    tracking_number: str
    format: Literal["zpl", "pdf", "png"]
    content_b64: str
    weight_min_grams: int
    weight_max_grams: int
    status: str


class WeightProfileSnapshot(_Wire):
    """What parcels with the same contents (sync.contents.contents_key) have weighed.

    Summary of the most recent parcels weighed on a scale: the station judges a new parcel
    against it offline (app.packing.weight_rules).
    """

    id: int
    contents_key: str
    box_type: str
    parcels: int  # how many parcels the figures are taken from
    mean_grams: float
    stdev_grams: float  # sample standard deviation (0 with fewer than two parcels)


class Change(_Wire):
    """One row of the pull feed. `data` is None when the entity left this station's view."""

    seq: int
    entity: Literal["order", "product", "user", "batch", "label", "weight_profile"]
    entity_id: int
    data: dict[str, Any] | None = None


class PullResponse(_Wire):
    cursor: int
    changes: list[Change]
    more: bool
    last_mutation_id: int
    snapshot: bool = False
    # Paged snapshot (asked for with `page`): the token of the next page, None on the last.
    # Sent only to a station that asked for pages: an older station refuses unknown fields.
    next_page: str | None = None


class CursorExpired(_Wire):
    error: Literal["cursor_expired"] = "cursor_expired"
    oldest_cursor: int
    message: str


class HoldingsChecksum(_Wire):
    """What the station should hold; compared after a full sync to detect drift."""

    order_count: int
    checksum: str


def holdings_checksum(order_versions: Iterable[tuple[int, int]]) -> str:
    """The HoldingsChecksum digest, computed the same way on both sides of the wire.

    sha256 (hex) of the lines "order_id:version", sorted by order_id ascending (numerically),
    joined by "\n" and UTF-8 encoded; no orders -> sha256 of the empty string.
    """
    lines = [f"{oid}:{version}" for oid, version in sorted(order_versions)]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


# --------------------------------------------------------------------------- claims


class ClaimRequest(_Wire):
    order_id: WireInt | None = None
    batch_id: WireInt | None = None


class ClaimResponse(_Wire):
    claim_id: int
    leases: list[LeaseInfo]


class ClaimRefused(_Wire):
    error: Literal["claimed_by_other", "order_not_claimable", "unknown_order"]
    message: str  # in English, for stations older than `code`
    station_name: str | None = None
    claimed_at: datetime | None = None
    # Protocol 4: the message as a code (CLAIM_MESSAGES) and its parameters, so the station
    # words it in the packer's language. Sent only to stations announcing 4 or more.
    code: str | None = None
    params: dict[str, str] | None = None


# What a claim refusal says, by `ClaimRefused.code`: the service's English `message` is the
# template filled with `params`; the station has the same sentences in its catalogue.
# {status} is an order status code (OrderStatus value); {why} is the shop's or a hold's text.
CLAIM_MESSAGES: dict[str, str] = {
    "order_held_elsewhere": "Order {order} is being packed at station {station} "
    "(claimed {since} UTC, until {until}).",
    "order_in_other_batch": "Order {order} belongs to a batch assigned to station {station}. "
    "A supervisor can reassign it.",
    "batch_elsewhere": "Batch {batch} is assigned to station {station}.",
    "batch_unknown": "Batch {batch} does not exist.",
    "order_unknown": "Order {order} does not exist.",
    "batch_empty": "The batch has no orders.",
    "order_not_packable": "Order {order} cannot be packed: it is {status}.",
    "order_not_packable_why": "Order {order} cannot be packed: it is {status} ({why}).",
}
CLAIM_FIELDS_V4 = ("code", "params")


# --------------------------------------------------------------------------- order exceptions

# What an order exception says, by `OrderException.details["say"]["code"]`: the service
# stores the code and its parameters (as text) there and keeps `message` = this template
# filled in (for older stations, logs and the API); the station and the office console have
# the same sentences in their catalogues and say them in the reader's language. A parameter
# may be data typed by a person or sent by a shop or carrier ({error}, {reason}, {problem}):
# it is shown as it came. {status} is an order status code, {shop} a channel name.
EXCEPTION_MESSAGES: dict[str, str] = {
    # validation: why an order the service took in is held
    "address_missing": "The order has no shipping address.",
    "address_incomplete": "The shipping address has no {fields}.",
    "country_invalid": "The shipping country '{country}' is not a known country.",
    "postcode_invalid": "The postcode '{postcode}' is not valid for {country}.",
    "unknown_sku": "No active product has the SKU '{sku}'.",
    "payment_pending": "The order is not paid yet.",
    "payment_void": "The payment was {state}; do not ship.",
    "cod_not_allowed": "Cash on delivery is not offered to {country}.",
    "carrier_unmapped": "The shipping method '{shown}' maps to carrier '{carrier}', which has "
    "no adapter here. Map the method to a carrier (channel set-shipping).",
    "pickup_point_missing": "{carrier}: {problem}.",
    "pickup_point_unsupported": "{carrier}: {problem}.",
    "cod_over_limit": "{carrier}: {problem}.",
    "cod_not_offered": "{carrier}: {problem}.",
    "phone_missing": "{carrier}: {problem}.",
    # the shop changed or cancelled an order already packed
    "changed_after_packing": "{shop} changed {fields} of order {order}, which is already "
    "{status}; the change was not applied. Check the parcel.",
    "cancel_after_packing": "{shop} cancelled order {order}, but it is already {status}. "
    "Stop the parcel or arrange a return.",
    # carriers, shops, stock, returns
    "label_not_voided": "{carrier} did not cancel label {tracking} of cancelled order "
    "{order}: void it in the carrier's portal.",
    "fulfilment_not_published": "The shop {shop} was not told this order shipped: {error}",
    "packed_incomplete": "Order {order} was reported packed, but {problems}. "
    "Check its boxes and labels before dispatch.",
    "unpack_cancelled": "Order {order} was cancelled after packing: {units} unit(s) are in "
    "its parcel. Take it to the returns bench and scan {order} to put them back on the shelf.",
    "oversold": "Order {order} was packed with {sku} that the ledger did not have available. "
    "Count the shelf and adjust the stock.",
    "dispose_failed": "Shopify ({shop}) did not take the dispositions of return {rma}: "
    "{error}. Dispose the return in Shopify, or fix the cause and retry the job, "
    "then resolve this exception.",
    "refund_failed": "The shop {shop} did not refund return {rma}: {error}. "
    "Refund it in the shop, then resolve this exception.",
    # a supervisor's weight override (already resolved; listed for review)
    "weight_override": "Weight override by {by}: {reason}",
    # stuck orders (reconcile)
    "paid_not_packed": "Order {order} was received {hours} hours ago and paid, "
    "but is still {status}, not packed.",
    "packed_not_shipped": "Order {order} was packed {hours} hours ago but has not shipped.",
    "shipped_no_tracking": "Order {order} shipped {hours} hours ago without a tracking number.",
}


def exception_words(code: str, **params: object) -> tuple[str, dict[str, Any]]:
    """An order exception's English `message` and its `details["say"]` (code, parameters as
    text), both from EXCEPTION_MESSAGES so they cannot drift apart."""
    said = {key: str(value) for key, value in params.items()}
    return EXCEPTION_MESSAGES[code].format(**said), {"code": code, "params": said}


def exception_say(details: object) -> tuple[str, dict[str, str]] | None:
    """The (code, parameters) an exception's details carry, if they fill a known template."""
    say = details.get("say") if isinstance(details, dict) else None
    if not isinstance(say, dict):
        return None
    code, params = str(say.get("code")), say.get("params")
    if code not in EXCEPTION_MESSAGES or not isinstance(params, dict):
        return None
    said = {str(key): str(value) for key, value in params.items()}
    try:
        EXCEPTION_MESSAGES[code].format(**said)
    except (KeyError, IndexError, ValueError):
        return None
    return code, said


# --------------------------------------------------------------------------- supervisors

SUPERVISOR_SESSION_HEADER = "X-Packbench-Supervisor-Session"


class SupervisorSignIn(_Wire):
    """A supervisor at a station proves who they are: badge and PIN, checked by the service."""

    badge: Annotated[str, Field(min_length=1, max_length=64)]
    pin: Annotated[str, Field(min_length=1, max_length=12)]


class SupervisorSessionOut(_Wire):
    """The short-lived session to send in SUPERVISOR_SESSION_HEADER with supervisor calls."""

    session: str
    user_id: int
    name: str
    expires_at: datetime


class ErrorBody(_Wire):
    """Every non-2xx answer from the service carries one of these (or a more specific one)."""

    error: str
    message: str
    field: str | None = None


# --------------------------------------------------------------------------- returns


class ReturnLineInfo(_Wire):
    """A line of an order as the returns bench needs it: what went out, what came back."""

    line_id: int
    sku: str
    name: str
    shipped: int
    returned: int  # units already booked in, in any return of the order
    expected: int  # units the open return announces for this line
    gtins: list[str] = Field(default_factory=list)  # normalised GTIN-14
    aliases: list[str] = Field(default_factory=list)


class ReturnLookup(_Wire):
    """GET /v1/returns/lookup?code=: the order (and open return) a scanned code names."""

    order_id: int
    order_number: str
    return_code: str | None = None  # the open return, if one was announced
    return_status: str | None = None
    lines: list[ReturnLineInfo]
    # The asking station's last mutation the service had applied (or rejected) when it
    # counted `returned`: the station adds its own queued units after that id.
    applied_through: int | None = None
