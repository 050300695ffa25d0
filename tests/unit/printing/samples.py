"""Deterministic sample documents shared by the printing tests and the benchmark."""

from __future__ import annotations

from datetime import UTC, datetime

from app.printing.documents import (
    BoxContentLabel,
    CommandEntry,
    CommandSheet,
    PackingSlip,
    ShippingLabel,
    SlipLine,
)

PRINTED_AT = datetime(2024, 5, 6, 14, 30, tzinfo=UTC)

SLIP = PackingSlip(
    order_number="ORD-100234",
    channel="Shopify",
    ship_to=("Jane Doe", "12 Harbour Road", "Flat 3", "Bristol BS1 4QA", "United Kingdom"),
    lines=(
        SlipLine("SKU-0001", "Blue ceramic mug, 350 ml", 2),
        SlipLine(
            "SKU-0002",
            "Stainless steel tea infuser with a very long product name that "
            "needs wrapping onto a second line",
            1,
        ),
        SlipLine("SKU-0003", "Oat biscuits 200 g", 3),
    ),
    return_text="Not happy? Return unused items within 30 days: print the returns label from "
    "our website and drop the parcel at any post office.",
    printed_at=PRINTED_AT,
    shop_name="Harbour Tea Co.",
)
SHIPPING = ShippingLabel(
    ship_from=("Harbour Tea Co.", "Unit 4, Dock Lane", "Bristol BS2 0XX", "GB"),
    ship_to=("Jane Doe", "12 Harbour Road", "Flat 3", "BRISTOL BS1 4QA", "UNITED KINGDOM"),
    carrier="ParcelGo",
    service="Next day 12:00",
    tracking_number="PG123456789GB",
    sscc="012345678901234560",
    weight_kg=1.234,
    order_number="ORD-100234",
    printed_at=PRINTED_AT,
)
BOX = BoxContentLabel("ORD-100234", 2, 3, "Box medium", SLIP.lines, PRINTED_AT, "Sam")
SHEET = CommandSheet(PRINTED_AT, (CommandEntry("PB:BADGE:DEMO-1", "Demo packer badge"),))
