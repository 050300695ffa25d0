"""Printing render benchmark: ZPL 4x6 label, PDF 4x6 label, 4x6 carrier PDF -> ZPL raster.

Prints one JSON object with p50/p99 (ms) per figure and the budgets. `--quick` runs 50
times instead of 500.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.printing.carrier import CarrierFormat, CarrierLabel, carrier_to_zpl
from app.printing.documents import ShippingLabel
from app.printing.layouts import shipping_label
from app.printing.model import MEDIA_4X6
from app.printing.pdf import render_pdf
from app.printing.zpl import render_zpl

BUDGETS_MS = {"zpl_4x6_label": 5.0, "pdf_4x6_label": 40.0, "carrier_pdf_to_zpl_203dpi": 200.0}


def _sample(index: int) -> ShippingLabel:
    # A fresh tracking number each run, so cached barcode encodings do not flatter the figure.
    return ShippingLabel(
        ship_from=("Harbour Tea Co.", "Unit 4, Dock Lane", "Bristol BS2 0XX", "GB"),
        ship_to=("Jane Doe", "12 Harbour Road", "Flat 3", "BRISTOL BS1 4QA", "UNITED KINGDOM"),
        carrier="ParcelGo",
        service="Next day 12:00",
        tracking_number=f"PG{100000000 + index:09d}GB",
        sscc=f"{12345678901234560 + index:018d}",
        weight_kg=1.234,
        order_number=f"ORD-{100000 + index}",
        printed_at=datetime(2024, 5, 6, tzinfo=UTC),
    )


def _measure(runs: int, work: Callable[[int], object]) -> dict[str, float]:
    work(-1)  # warm-up: imports, font metrics
    times = []
    for index in range(runs):
        start = time.perf_counter()
        work(index)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 3),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 3),
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="50 runs instead of 500")
    args = parser.parse_args()
    runs = 50 if args.quick else 500
    carrier = CarrierLabel(CarrierFormat.PDF, render_pdf(shipping_label(_sample(0))))
    figures = {
        "zpl_4x6_label": _measure(runs, lambda i: render_zpl(shipping_label(_sample(i)), 203)),
        "pdf_4x6_label": _measure(runs, lambda i: render_pdf(shipping_label(_sample(i)))),
        "carrier_pdf_to_zpl_203dpi": _measure(
            runs, lambda i: carrier_to_zpl(carrier, MEDIA_4X6, 203)
        ),
    }
    for name, figure in figures.items():
        figure["budget_ms"] = BUDGETS_MS[name]
        figure["within_budget"] = figure["p99_ms"] <= BUDGETS_MS[name]
    print(json.dumps({"benchmark": "print_render", "figures": figures}, indent=2))


if __name__ == "__main__":
    main()
