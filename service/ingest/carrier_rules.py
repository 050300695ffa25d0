"""A channel's carrier rule table: which carrier and product an order ships with.

settings["carrier_rules"] = {"rules": [...], "fallback": {"carrier", "service"} | None}.
Each rule has optional conditions (`countries`, `methods`, `delivery` pickup|home, `cod`,
`min_grams`/`max_grams` on the order's expected weight, `min_parcels`/`max_parcels`) and a
result (`carrier`, `service`, optional `name`). The first rule whose conditions all hold
wins; none -> the fallback; no fallback -> the shipping-method mapping or the guess
(service.ingest.shipping). What chose is recorded on the order as a `carrier_chosen` event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.carriers.registry import known_carriers
from service.errors import ValidationFailed
from service.ingest.model import NormalisedOrder, PaymentState
from service.ingest.normalise import normalise_country
from service.models import Order, Product

SETTING = "carrier_rules"
CONDITIONS = (
    "countries",
    "methods",
    "delivery",
    "cod",
    "min_grams",
    "max_grams",
    "min_parcels",
    "max_parcels",
)
RESULT = ("carrier", "service")
RULE_KEYS = frozenset({"name", *CONDITIONS, *RESULT})
DELIVERIES = ("pickup", "home")


def _fail(where: str, field: str, problem: str) -> ValidationFailed:
    return ValidationFailed(
        f"{where}, {field}: {problem}. Nothing was changed; fix the table and set it again.",
        field=field,
    )


def _result(where: str, raw: Mapping[str, Any]) -> dict[str, str]:
    carrier = raw.get("carrier")
    known = known_carriers()
    if not isinstance(carrier, str) or carrier not in known:
        raise _fail(
            where,
            "carrier",
            f"{carrier!r} is not a carrier adapter here; use one of {', '.join(sorted(known))}",
        )
    service = raw.get("service")
    if not isinstance(service, str) or not service.strip() or len(service.strip()) > 40:
        raise _fail(where, "service", "give the carrier's product, 1-40 characters")
    return {"carrier": carrier, "service": service.strip()}


def _count(where: str, field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(where, field, f"{value!r} is not a whole number of 0 or more")
    return int(value)


def _strings(where: str, field: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _fail(where, field, "give a non-empty list of strings")
    return [v.strip() for v in value]


def _rule(number: int, raw: Any) -> dict[str, Any]:
    where = f"Rule {number}"
    if not isinstance(raw, Mapping):
        raise _fail(where, "rule", "each rule is an object with conditions, carrier and service")
    unknown = sorted(str(k) for k in raw if k not in RULE_KEYS)
    if unknown:
        raise _fail(
            where,
            unknown[0],
            f"unknown key; a rule takes {', '.join(sorted(RULE_KEYS))}",
        )
    rule: dict[str, Any] = {}
    if "name" in raw:
        if not isinstance(raw["name"], str) or len(raw["name"]) > 60:
            raise _fail(where, "name", "a name is text of at most 60 characters")
        rule["name"] = raw["name"].strip()
    if "countries" in raw:
        codes = _strings(where, "countries", raw["countries"])
        for code in codes:
            if len(code) != 2 or normalise_country(code) != code.upper():
                raise _fail(where, "countries", f"{code!r} is not an ISO 3166 two-letter code")
        rule["countries"] = [c.upper() for c in codes]
    if "methods" in raw:
        rule["methods"] = _strings(where, "methods", raw["methods"])
    if "delivery" in raw:
        if raw["delivery"] not in DELIVERIES:
            raise _fail(where, "delivery", f"{raw['delivery']!r} is neither pickup nor home")
        rule["delivery"] = raw["delivery"]
    if "cod" in raw:
        if not isinstance(raw["cod"], bool):
            raise _fail(where, "cod", f"{raw['cod']!r} is neither true nor false")
        rule["cod"] = raw["cod"]
    for low, high in (("min_grams", "max_grams"), ("min_parcels", "max_parcels")):
        for key in (low, high):
            if key in raw:
                rule[key] = _count(where, key, raw[key])
        if low in rule and high in rule and rule[low] > rule[high]:
            raise _fail(where, low, f"{rule[low]} is more than {high} {rule[high]}")
    rule.update(_result(where, raw))
    return rule


def checked_table(raw: Any) -> dict[str, Any]:
    """The table as stored, or ValidationFailed naming the rule number and field.

    Takes {"rules": [...], "fallback": {...}} or a bare list of rules.
    """
    if isinstance(raw, list):
        raw = {"rules": raw}
    if not isinstance(raw, Mapping):
        raise ValidationFailed(
            'The carrier rules are {"rules": [...], "fallback": {...}} or a list of rules.',
            field="rules",
        )
    extra = sorted(str(k) for k in raw if k not in ("rules", "fallback"))
    if extra:
        raise _fail("The table", extra[0], "unknown key; the table takes rules and fallback")
    rules = raw.get("rules")
    if not isinstance(rules, list) or not rules:
        raise _fail("The table", "rules", "give at least one rule")
    table: dict[str, Any] = {"rules": [_rule(n, r) for n, r in enumerate(rules, start=1)]}
    fallback = raw.get("fallback")
    if fallback is not None:
        if not isinstance(fallback, Mapping):
            raise _fail("The fallback", "fallback", "an object with carrier and service")
        unknown = sorted(str(k) for k in fallback if k not in RESULT)
        if unknown:
            raise _fail("The fallback", unknown[0], "unknown key; it takes carrier and service")
        table["fallback"] = _result("The fallback", fallback)
    else:
        table["fallback"] = None
    return table


def table_of(settings: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The channel's stored table, or None when it has none."""
    table = (settings or {}).get(SETTING)
    if isinstance(table, Mapping) and table.get("rules"):
        return dict(table)
    return None


@dataclass(frozen=True)
class Facts:
    """What the rules look at in an order."""

    country: str
    method: tuple[str, str]
    pickup: bool
    cod: bool
    grams: int | None  # None: some line's weight is not known
    parcels: int = 1


def _matches(rule: Mapping[str, Any], facts: Facts) -> bool:
    if "countries" in rule and facts.country not in rule["countries"]:
        return False
    if "methods" in rule:
        wanted = {m.lower() for m in rule["methods"]}
        if not {m.lower() for m in facts.method if m} & wanted:
            return False
    if "delivery" in rule and (rule["delivery"] == "pickup") != facts.pickup:
        return False
    if "cod" in rule and rule["cod"] != facts.cod:
        return False
    if "min_grams" in rule or "max_grams" in rule:
        if facts.grams is None:
            return False
        if facts.grams < rule.get("min_grams", 0):
            return False
        if "max_grams" in rule and facts.grams > rule["max_grams"]:
            return False
    if facts.parcels < rule.get("min_parcels", 0):
        return False
    return not ("max_parcels" in rule and facts.parcels > rule["max_parcels"])


def choose(table: Mapping[str, Any], facts: Facts) -> tuple[dict[str, str], dict[str, Any]] | None:
    """({carrier, service}, what chose) from the first matching rule or the fallback."""
    for number, rule in enumerate(table.get("rules") or [], start=1):
        if _matches(rule, facts):
            chosen_by: dict[str, Any] = {"rule": number}
            if rule.get("name"):
                chosen_by["name"] = rule["name"]
            return {"carrier": rule["carrier"], "service": rule["service"]}, chosen_by
    fallback = table.get("fallback")
    if isinstance(fallback, Mapping):
        return {"carrier": fallback["carrier"], "service": fallback["service"]}, {
            "rule": "fallback"
        }
    return None


def expected_grams(
    session: Session, order: NormalisedOrder, products: Mapping[str, int]
) -> int | None:
    """The order's weight as labels.expected_grams computes it; None if a weight is unknown."""
    from service.shipping.labels import default_box_grams  # shipping imports ingest's neighbours

    ids = {products[line.sku] for line in order.lines if line.sku in products}
    if len(ids) == 0 or any(line.sku not in products for line in order.lines):
        return None
    weights: dict[int, int | None] = {
        pid: grams
        for pid, grams in session.execute(
            select(Product.id, Product.weight_grams).where(Product.id.in_(ids))
        )
    }
    total = 0
    for line in order.lines:
        grams = weights.get(products[line.sku])
        if grams is None:
            return None
        total += grams * line.quantity
    return total + default_box_grams()


def apply_rules(
    session: Session,
    settings: Mapping[str, Any] | None,
    order: NormalisedOrder,
    products: Mapping[str, int],
) -> tuple[NormalisedOrder, dict[str, Any] | None]:
    """`order` with the carrier and service the channel's table picks, and the
    `carrier_chosen` event payload (None when the channel has no table)."""
    table = table_of(settings)
    if table is None:
        return order, None
    facts = Facts(
        country=order.shipping_address.country if order.shipping_address else "",
        method=order.shipping_method,
        pickup=bool(order.pickup_point),
        cod=order.payment_state is PaymentState.COD,
        grams=expected_grams(session, order, products),
    )
    picked = choose(table, facts)
    if picked is None:
        mapped = any(
            str(k).lower() in {m.lower() for m in order.shipping_method if m}
            for k in dict((settings or {}).get("shipping_methods") or {})
        )
        by = "method mapping" if mapped else "guessed from the method name"
        current = {"carrier": order.carrier, "service": order.service}
        return order, chosen_payload(facts, current, {"rule": by})
    result, chosen_by = picked
    return order.model_copy(update=result), chosen_payload(facts, result, chosen_by)


def facts_of(session: Session, order: Order, method: tuple[str, str]) -> Facts:
    """The facts of an order already stored (held), its shop method given by its hold."""
    from service.shipping.labels import default_box_grams

    ids = {line.product_id for line in order.lines if line.product_id is not None}
    weights: dict[int, int | None] = {}
    if ids:
        weights = {
            pid: grams
            for pid, grams in session.execute(
                select(Product.id, Product.weight_grams).where(Product.id.in_(ids))
            )
        }
    grams: int | None = default_box_grams()
    for line in order.lines:
        unit = weights.get(line.product_id) if line.product_id is not None else None
        if unit is None or grams is None:
            grams = None
            continue
        grams += unit * line.quantity
    return Facts(
        country=order.ship_country or "",
        method=method,
        pickup=bool(order.pickup_point),
        cod=order.payment_state == PaymentState.COD.value,
        grams=grams if order.lines else None,
    )


def chosen_payload(
    facts: Facts, result: Mapping[str, str], by: Mapping[str, Any]
) -> dict[str, Any]:
    """The `carrier_chosen` event's payload: what chose, the result, what it looked at."""
    return {
        **by,
        **result,
        "country": facts.country,
        "delivery": "pickup" if facts.pickup else "home",
        "cod": facts.cod,
        "grams": facts.grams,
        "parcels": facts.parcels,
    }
