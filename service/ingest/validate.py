"""Business validation of a normalised order: every problem becomes a hold reason.

A reason is `{"code", "message"}`: the code is for machines (auto-release, dashboards), the
message tells a supervisor what to fix. `VALIDATION_CODES` are the codes this module owns,
so a hold made only of them may be lifted again by a later update from the channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from string import Formatter
from typing import Any, Protocol, runtime_checkable

from service.carriers.base import Address as CarrierAddress
from service.carriers.base import CarrierError, ShipmentRequest, refuses_pickup_point
from service.carriers.registry import carrier_config, get_adapter, known_carriers
from service.carriers.rules import CarrierRules
from service.ingest.model import Address, NormalisedOrder, PaymentState
from service.ingest.normalise import POSTCODE_COUNTRIES, normalise_postcode
from sync.protocol import EXCEPTION_MESSAGES, exception_words

# Default countries where carriers collect cash on delivery for us; a channel can override
# with settings["cod_countries"] (a list of ISO codes).
DEFAULT_COD_COUNTRIES: frozenset[str] = frozenset(
    {"DE", "AT", "PL", "CZ", "SK", "RO", "HU", "IT", "ES"}
)

ADDRESS_MISSING = "address_missing"
ADDRESS_INCOMPLETE = "address_incomplete"
COUNTRY_INVALID = "country_invalid"
POSTCODE_INVALID = "postcode_invalid"
UNKNOWN_SKU = "unknown_sku"
PAYMENT_PENDING = "payment_pending"
PAYMENT_VOID = "payment_void"
COD_NOT_ALLOWED = "cod_not_allowed"
CARRIER_UNMAPPED = "carrier_unmapped"
# What the order's carrier account will not take (service.carriers.rules), known at ingest.
PICKUP_POINT_MISSING = "pickup_point_missing"
COD_OVER_LIMIT = "cod_over_limit"
COD_NOT_OFFERED = "cod_not_offered"
PHONE_MISSING = "phone_missing"
PICKUP_POINT_UNSUPPORTED = "pickup_point_unsupported"
CARRIER_RULE_CODES = frozenset(
    {PICKUP_POINT_MISSING, PICKUP_POINT_UNSUPPORTED, COD_OVER_LIMIT, COD_NOT_OFFERED, PHONE_MISSING}
)

VALIDATION_CODES: frozenset[str] = frozenset(
    {
        ADDRESS_MISSING,
        ADDRESS_INCOMPLETE,
        COUNTRY_INVALID,
        POSTCODE_INVALID,
        UNKNOWN_SKU,
        PAYMENT_PENDING,
        PAYMENT_VOID,
        COD_NOT_ALLOWED,
        CARRIER_UNMAPPED,
        *CARRIER_RULE_CODES,
    }
)

Reason = dict[str, str]


def carrier_reasons(order: NormalisedOrder) -> list[Reason]:
    """An order whose shipping method names a carrier Packbench has no adapter for.

    Without this it would be packed and then wait for a label nobody can make. The reason
    keeps the method's code and title, so mapping either (`channel set-shipping`) releases
    exactly these orders.
    """
    if not order.carrier or order.carrier in known_carriers():
        return []
    code, title = order.shipping_method
    shown = title or code or order.service
    return [
        {
            **_reason(CARRIER_UNMAPPED, shown=shown, carrier=order.carrier),
            "method": code or order.service,
            "method_title": title,
        }
    ]


@runtime_checkable
class _Ruled(Protocol):
    def rules(self, request: ShipmentRequest) -> CarrierRules: ...


def carrier_rule_reasons(order: NormalisedOrder, settings: Mapping[str, Any]) -> list[Reason]:
    """What the order's carrier account will refuse, known before anyone packs it.

    A pickup service without the point the customer chose, a point for a carrier that
    delivers to none, COD over the account's limit or in a currency it does not collect, a
    phone the carrier needs. The label step checks the
    same rules again (and the weight), so nothing is half-created at the carrier.
    """
    if not order.carrier or order.carrier not in known_carriers():
        return []
    try:
        adapter = get_adapter(order.carrier, carrier_config(order.carrier, settings))
    except CarrierError:
        return []  # a broken account shows up as a carrier exception at the label step
    ship = order.shipping_address
    request = ShipmentRequest(
        order_number=order.channel_order_id,
        sender=CarrierAddress("", "", "", "", ""),
        recipient=CarrierAddress(
            name=ship.name if ship else "",
            street1=ship.street1 if ship else "",
            postcode=ship.postcode if ship else "",
            city=ship.city if ship else "",
            country=ship.country if ship else "",
            phone=order.phone or (ship.phone if ship else ""),
        ),
        parcels=[],
        parcel_count=1,
        service=order.service,
        pickup_point=order.pickup_point,
        cod_amount=order.total if order.payment_state is PaymentState.COD else None,
        currency=order.currency,
    )
    problems = [refuses_pickup_point(adapter, request)]
    if isinstance(adapter, _Ruled):
        problems.extend(adapter.rules(request).problems(request))
    return [
        _reason(problem.reason, carrier=order.carrier, problem=problem.message)
        for problem in problems
        if problem is not None and problem.reason in CARRIER_RULE_CODES
    ]


def _reason(code: str, **params: object) -> Reason:
    """A hold reason: its code, the English sentence (sync.protocol.EXCEPTION_MESSAGES) and
    the sentence's parameters as text, beside them (exception_params reads them back)."""
    message, say = exception_words(code, **params)
    return {"code": code, "message": message, **say["params"]}


def exception_params(reason: Reason) -> dict[str, Any]:
    """`details["say"]` for the exception of a hold reason, or {} when its code has no
    sentence in the table or the reason lacks a parameter (an older stored reason)."""
    template = EXCEPTION_MESSAGES.get(reason.get("code", ""))
    if template is None:
        return {}
    names = {name for _, name, _, _ in Formatter().parse(template) if name}
    if not names <= reason.keys():
        return {}
    return {"say": {"code": reason["code"], "params": {n: str(reason[n]) for n in names}}}


def cod_countries(settings: Mapping[str, Any]) -> frozenset[str]:
    """The channel's COD destinations (settings["cod_countries"]), else the default list."""
    configured = settings.get("cod_countries")
    if isinstance(configured, list | tuple):
        return frozenset(str(c).strip().upper() for c in configured)
    return DEFAULT_COD_COUNTRIES


def address_reasons(address: Address | None) -> list[Reason]:
    """What keeps a carrier from delivering to this address."""
    if address is None:
        return [_reason(ADDRESS_MISSING)]
    reasons: list[Reason] = []
    missing = [
        label
        for label, value in (
            ("name", address.name or address.company),
            ("street", address.street1),
            ("city", address.city),
        )
        if not value.strip()
    ]
    if missing:
        reasons.append(_reason(ADDRESS_INCOMPLETE, fields=", ".join(missing)))
    if not address.country:
        typed = address.country_input or "(empty)"
        reasons.append(_reason(COUNTRY_INVALID, country=typed))
    elif (
        address.country in POSTCODE_COUNTRIES
        and normalise_postcode(address.country, address.postcode) != address.postcode
    ):
        reasons.append(
            _reason(
                POSTCODE_INVALID, postcode=address.postcode or "(empty)", country=address.country
            )
        )
    return reasons


def unknown_sku_reasons(skus: Iterable[str]) -> list[Reason]:
    """One `unknown_sku` reason per distinct SKU (an empty SKU shows as "(none)")."""
    return [_reason(UNKNOWN_SKU, sku=sku) for sku in sorted({s or "(none)" for s in skus})]


def validate(
    order: NormalisedOrder, known_skus: Mapping[str, int], settings: Mapping[str, Any]
) -> list[Reason]:
    """Every reason to hold `order` ([] = ready to confirm). `known_skus` maps SKU -> product."""
    reasons = address_reasons(order.shipping_address) + carrier_reasons(order)
    reasons.extend(carrier_rule_reasons(order, settings))
    reasons.extend(
        unknown_sku_reasons(line.sku for line in order.lines if line.sku not in known_skus)
    )
    if order.payment_state is PaymentState.PENDING:
        reasons.append(_reason(PAYMENT_PENDING))
    elif order.payment_state in (PaymentState.REFUNDED, PaymentState.VOIDED):
        reasons.append(_reason(PAYMENT_VOID, state=order.payment_state.value))
    elif order.payment_state is PaymentState.COD and order.shipping_address is not None:
        country = order.shipping_address.country
        if country and country not in cod_countries(settings):
            reasons.append(_reason(COD_NOT_ALLOWED, country=country))
    return reasons
