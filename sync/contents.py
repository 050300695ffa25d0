"""What a parcel holds, as one canonical key shared by the station and the service.

The key is the same however the parcel was scanned: order lines split or repeated, SKUs
in any case or spacing ("A x1, B x1, A x1" in box "s" == "B x1, A x2" in box "S").
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def contents_signature(lines: Iterable[tuple[str, int]], box_type: str) -> str:
    """Readable canonical contents: ``box=S|SKU-A*2;SKU-B*1`` (SKUs sorted, quantities summed)."""
    counts: dict[str, int] = {}
    for sku, quantity in lines:
        key = sku.strip().upper()
        counts[key] = counts.get(key, 0) + quantity
    items = ";".join(f"{sku}*{qty}" for sku, qty in sorted(counts.items()) if qty > 0)
    return f"box={box_type.strip().upper()}|{items}"


def contents_key(lines: Iterable[tuple[str, int]], box_type: str) -> str:
    """The weight profile key of these contents: sha256 (hex) of `contents_signature`."""
    return hashlib.sha256(contents_signature(lines, box_type).encode()).hexdigest()
