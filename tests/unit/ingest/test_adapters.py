"""Shopify, WooCommerce, operator and CSV adapters map into the one internal model."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest

from service.ingest import operator, shopify, woocommerce
from service.ingest.csv_import import CsvRejected, parse_csv
from service.ingest.errors import PayloadInvalid
from service.ingest.model import PaymentState
from service.ingest.validate import validate
from tests.support.shop_payloads import shopify_order, woo_order

KNOWN = {"MUG-350-BLU": 1, "PLATE-24": 2}
# The fixture shop's "DHL Paket" mapped to the house carrier, as an operator would.
MAPPED = {"shipping_methods": {"DHL Paket": {"carrier": "house", "service": "standard"}}}


def test_shopify_fixture_maps_every_field() -> None:
    order = shopify.parse(shopify_order(), {})
    assert order.channel_order_id == "5940139491234"
    assert str(order.channel_updated_at) == "2024-11-10 10:30:02+01:00"
    assert order.currency == "EUR"
    assert order.total == Decimal("89.80")
    assert order.payment_state is PaymentState.PAID
    assert order.email == "jana.schmidt@example.com"
    ship = order.shipping_address
    assert ship is not None
    assert (ship.name, ship.street1, ship.street2, ship.postcode, ship.city, ship.country) == (
        "Jana Schmidt",
        "Karl-Liebknecht-Str. 29",
        "3. OG",
        "10178",
        "Berlin",
        "DE",
    )
    assert ship.phone == "+4930901820"
    assert [(ln.sku, ln.quantity) for ln in order.lines] == [("MUG-350-BLU", 2), ("PLATE-24", 1)]
    first = order.lines[0]
    assert (first.unit_price, first.tax, first.discount) == (
        Decimal("24.95"),
        Decimal("7.17"),
        Decimal("5.00"),
    )
    assert order.carrier == "dhl"
    assert order.shipping_method == ("DHL Paket", "DHL Paket")
    # Guessed "dhl" has no adapter: held, naming the method to map, not left to wait forever.
    (reason,) = validate(order, KNOWN, {})
    assert (reason["code"], reason["method"]) == ("carrier_unmapped", "DHL Paket")
    assert "'DHL Paket'" in reason["message"] and "set-shipping" in reason["message"]
    mapped = shopify.parse(shopify_order(), MAPPED)
    assert (mapped.carrier, mapped.service) == ("house", "standard")
    assert validate(mapped, KNOWN, MAPPED) == []


@pytest.mark.parametrize(
    ("financial_status", "gateways", "expected"),
    [
        ("paid", ["shopify_payments"], PaymentState.PAID),
        ("authorized", ["shopify_payments"], PaymentState.PAID),
        ("partially_refunded", ["paypal"], PaymentState.PAID),
        ("pending", ["bank_deposit"], PaymentState.PENDING),
        ("pending", ["Cash on Delivery (COD)"], PaymentState.COD),
        ("refunded", ["paypal"], PaymentState.REFUNDED),
        ("voided", ["paypal"], PaymentState.VOIDED),
        (None, [], PaymentState.PENDING),
    ],
)
def test_shopify_payment_states(
    financial_status: str | None, gateways: list[str], expected: PaymentState
) -> None:
    payload = shopify_order(financial_status=financial_status, payment_gateway_names=gateways)
    assert shopify.parse(payload, {}).payment_state is expected


def _with_line(payload: dict[str, Any], **line: Any) -> dict[str, Any]:
    payload["line_items"][0].update(line)
    return payload


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (_with_line(shopify_order(), quantity=0), "line_items[0].quantity"),
        (_with_line(shopify_order(), quantity=-3), "line_items[0].quantity"),
        (_with_line(shopify_order(), quantity=10_001), "line_items[0].quantity"),
        (_with_line(shopify_order(), price="abc"), "line_items[0].price"),
        (_with_line(shopify_order(), price="NaN"), "line_items[0].price"),
        (shopify_order(line_items=[]), "line_items"),
        (shopify_order(currency="EURO"), "currency"),
        ({k: v for k, v in shopify_order().items() if k != "id"}, "id"),
        ({k: v for k, v in shopify_order().items() if k != "total_price"}, "total_price"),
    ],
)
def test_shopify_bad_fields_are_named(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(PayloadInvalid) as err:
        shopify.parse(payload, {})
    assert err.value.field == field
    assert field in err.value.message


def test_shopify_cancelled_and_shipping_map() -> None:
    payload = shopify_order(cancelled_at="2024-11-11T09:00:00+01:00")
    payload["shipping_lines"] = [{"title": "Express", "code": "exp-1"}]
    settings = {
        "shipping_methods": {"exp-1": {"carrier": "ups", "service": "saver", "priority": 2}}
    }
    order = shopify.parse(payload, settings)
    assert order.cancelled
    assert (order.carrier, order.service, order.priority) == ("ups", "saver", 2)


def test_woocommerce_fixture_maps_every_field() -> None:
    order = woocommerce.parse(woo_order(), {})
    assert order.channel_order_id == "727"
    assert str(order.channel_updated_at) == "2024-11-10 10:42:20+00:00"  # *_gmt: UTC
    assert order.payment_state is PaymentState.PAID
    ship = order.shipping_address
    assert ship is not None
    assert (ship.name, ship.company, ship.postcode, ship.country) == (
        "Pieter de Vries",
        "Bakkerij de Vries",
        "1012 LG",
        "NL",
    )
    assert order.phone == "+31205550123"
    assert order.email == "pieter@example.nl"
    assert order.carrier == "postnl"
    assert order.shipping_method == ("flat_rate", "PostNL Standaard")
    assert order.lines[0].unit_price == Decimal("20.66")
    assert order.lines[0].tax == Decimal("3.93")
    assert order.ordered_at is not None and order.ordered_at.utcoffset() is not None
    (reason,) = validate(order, KNOWN, {})
    assert (reason["method"], reason["method_title"]) == ("flat_rate", "PostNL Standaard")


@pytest.mark.parametrize(
    ("status", "method", "date_paid", "expected"),
    [
        ("processing", "stripe", "2024-11-10T11:42:20", PaymentState.PAID),
        ("processing", "cod", None, PaymentState.COD),
        ("on-hold", "bacs", None, PaymentState.PENDING),
        ("pending", "paypal", None, PaymentState.PENDING),
        ("failed", "paypal", None, PaymentState.PENDING),
        ("completed", "cod", "2024-11-12T09:00:00", PaymentState.PAID),
        ("refunded", "stripe", "2024-11-10T11:42:20", PaymentState.REFUNDED),
    ],
)
def test_woocommerce_payment_states(
    status: str, method: str, date_paid: str | None, expected: PaymentState
) -> None:
    payload = woo_order(
        status=status, payment_method=method, date_paid=date_paid, date_paid_gmt=date_paid
    )
    assert woocommerce.parse(payload, {}).payment_state is expected


def test_woocommerce_cancelled_and_bad_quantity() -> None:
    assert woocommerce.parse(woo_order(status="cancelled"), {}).cancelled
    bad = woo_order()
    bad["line_items"][1]["quantity"] = 20_000
    with pytest.raises(PayloadInvalid) as err:
        woocommerce.parse(bad, {})
    assert err.value.field == "line_items[1].quantity"


def test_validation_reasons_cover_address_sku_payment_and_cod() -> None:
    payload = shopify_order(financial_status="pending", payment_gateway_names=["bank_deposit"])
    payload["shipping_address"]["zip"] = "1017"
    payload["line_items"][1]["sku"] = "NOPE-1"
    codes = [r["code"] for r in validate(shopify.parse(payload, MAPPED), KNOWN, MAPPED)]
    assert codes == ["postcode_invalid", "unknown_sku", "payment_pending"]

    cod = shopify_order(
        financial_status="pending", payment_gateway_names=["Cash on Delivery (COD)"]
    )
    cod["shipping_address"].update(country_code="FR", country="France", zip="75008")
    reasons = validate(shopify.parse(cod, MAPPED), KNOWN, MAPPED)
    assert [r["code"] for r in reasons] == ["cod_not_allowed"]
    assert validate(shopify.parse(cod, MAPPED), KNOWN, {**MAPPED, "cod_countries": ["FR"]}) == []

    nowhere = shopify_order()
    nowhere["shipping_address"].update(country_code=None, country="Narnia", city="")
    codes = [r["code"] for r in validate(shopify.parse(nowhere, MAPPED), KNOWN, MAPPED)]
    assert codes == ["address_incomplete", "country_invalid"]
    assert (
        validate(shopify.parse(shopify_order(shipping_address=None), MAPPED), KNOWN, MAPPED)[0][
            "code"
        ]
        == "address_missing"
    )


def test_operator_order_computes_total_and_maps_invoice() -> None:
    body = {
        "reference": "PO-4711",
        "currency": "eur",
        "payment": "invoice",
        "phone": "+43 1 5130000",
        "shipping_address": {
            "company": "Kaffeehaus GmbH",
            "street1": "Stephansplatz 1",
            "postcode": "A-1010",
            "city": "Wien",
            "country": "Austria",
        },
        "lines": [{"sku": "mug-350-blu", "quantity": 3, "unit_price": "10.00", "tax": "6.00"}],
    }
    order = operator.parse(body, {})
    assert order.payment_state is PaymentState.PAID
    assert order.total == Decimal("36.00")
    assert order.shipping_address is not None and order.shipping_address.postcode == "1010"
    assert order.shipping_address.country == "AT"
    assert order.phone == "+4315130000"
    assert order.lines[0].sku == "MUG-350-BLU"


CSV_GOOD = (
    "order_id,order_name,currency,payment,email,ship_name,ship_street1,ship_postcode,"
    "ship_city,ship_country,sku,name,quantity,unit_price\n"
    "A-1,#A1,EUR,paid,a@example.com,Anna Nowak,ul. Marszałkowska 1,00950,Warszawa,Poland,"
    "MUG-350-BLU,Mug,2,10.00\n"
    "A-1,,,,,,,,,,plate-24,Plate,1,5.50\n"
    "B-2,#B2,EUR,cod,b@example.com,Jan Novák,Václavské náměstí 1,11000,Praha,CZ,"
    "PLATE-24,Plate,4,5.50\n"
)


def test_csv_groups_rows_into_orders() -> None:
    orders = parse_csv(io.StringIO(CSV_GOOD))
    assert [o.channel_order_id for o in orders] == ["A-1", "B-2"]
    a, b = orders
    assert [(ln.sku, ln.quantity) for ln in a.lines] == [("MUG-350-BLU", 2), ("PLATE-24", 1)]
    assert a.total == Decimal("25.50")
    assert a.shipping_address is not None and a.shipping_address.postcode == "00-950"
    assert b.payment_state is PaymentState.COD
    assert b.shipping_address is not None and b.shipping_address.postcode == "110 00"


def test_csv_semicolon_separated_is_read() -> None:
    text = CSV_GOOD.replace(",", ";")
    assert len(parse_csv(io.StringIO(text))) == 2


def test_malformed_csv_lists_every_problem_with_line_numbers() -> None:
    bad = (
        CSV_GOOD
        + "C-3,#C3,EUR,paid,c@example.com,X,Y,10178,Berlin,DE,MUG-350-BLU,Mug,0,1.00\n"
        + "C-3,#C3,USD,,,,,,,,PLATE-24,Plate,abc,1.00\n"
        + ",#D4,EUR,paid,,,,,,,PLATE-24,Plate,1,1.00\n"
        + "E-5,#E5,EUR,maybe,,,,,,,PLATE-24,Plate,1,1.00\n"
    )
    with pytest.raises(CsvRejected) as err:
        parse_csv(io.StringIO(bad))
    problems = err.value.problems
    assert "line 5: quantity: Input should be greater than 0" in problems
    assert any(p.startswith("line 6: quantity:") for p in problems)
    assert any(p.startswith("line 6: currency:") and "line 5" in p for p in problems)
    assert "line 7: order_id: every row needs an order_id" in problems
    assert any(p.startswith("line 8: payment:") for p in problems)


def test_csv_missing_required_column_is_rejected() -> None:
    with pytest.raises(CsvRejected) as err:
        parse_csv(io.StringIO("order_id,sku\nA,B\n"))
    assert err.value.problems == ["line 1: header: missing column(s) currency, payment, quantity"]
