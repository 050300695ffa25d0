"""The pickup point the customer chose at checkout, from where the channel's shop put it.

Shops carry the point in documented free fields that a pickup-point plugin fills; each
channel says which (settings["pickup_point"]):

    {"from": "note_attributes", "id": "packeta_point_id", "name": "packeta_point_name"}
        Shopify: the order's `note_attributes` [{name, value}] (cart attributes);
    {"from": "meta_data", "id": "_packeta_point_id", "name": "_packeta_point_name"}
        WooCommerce: the order's `meta_data` [{key, value}];
    {"from": "shipping_line_meta", "id": "pickup_point_id", "name": "pickup_point_name"}
        WooCommerce: the first shipping line's `meta_data` (where shipping plugins write).

Nothing configured, or the field absent: no point (home delivery, or a hold if the mapped
service needs one, see `service.ingest.validate`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

SOURCES = ("note_attributes", "meta_data", "shipping_line_meta")


def pickup_spec(settings: Mapping[str, Any]) -> Mapping[str, Any]:
    """The channel's pickup-point setting, or {} when it has none."""
    spec = settings.get("pickup_point")
    return spec if isinstance(spec, Mapping) and spec.get("from") in SOURCES else {}


def pickup_from_pairs(pairs: Iterable[tuple[str, Any]], spec: Mapping[str, Any]) -> tuple[str, str]:
    """(point id, point name) from key/value pairs, per the channel's setting."""
    values = {str(key): value for key, value in pairs}

    def text(key: Any, limit: int) -> str:
        raw = values.get(str(key)) if key else None
        return " ".join(str(raw).split())[:limit] if raw not in (None, "") else ""

    return text(spec.get("id"), 64), text(spec.get("name"), 200)
