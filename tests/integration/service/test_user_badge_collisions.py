"""`packbench-service user add` refuses a badge a station would read as something else.

Each command a process of its own running `service.cli`, on SQLite and PostgreSQL (the
`service_db` fixture), against the demo catalogue and orders.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from service.models import Order, Product, ProductAlias, User
from tests.support.service_process import child_env, run_cli


def test_badges_that_collide_with_codes_are_refused_others_of_any_shape_are_not(
    service_db: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = service_db
    env = child_env(tmp_path / "keyring.json")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env=env)

    assert cli("seed-demo", "--db", url).returncode == 0
    with Session(engine) as s:
        product = s.scalars(select(Product).order_by(Product.id)).first()
        assert product is not None
        s.add(ProductAlias(code="old-mug-7", product_id=product.id))
        s.commit()
        sku, gtin14 = product.sku, product.gtins[0].gtin14
        order = s.scalars(select(Order).order_by(Order.id)).first()
        assert order is not None
        number = order.number
    refused = {
        sku.lower(): f"a code of product {sku}",
        gtin14.lstrip("0"): f"a code of product {sku}",  # the EAN-13 printed on the item
        "OLD-MUG-7": f"a code of product {sku}",  # an alias
        number: f"the order number or tote of order {number}",
        "PB:CLOSE": "a command barcode (PB:...)",
    }
    base = ["user", "add", "--db", url, "--role", "packer", "--name", "Kim"]
    for badge, why in refused.items():
        done = cli(*base, "--badge", badge)
        assert done.returncode == 1, done.stdout
        assert f"Badge {badge} is {why}" in done.stderr
        assert "Traceback" not in done.stderr
    done = cli(*base, "--badge", "BADGE-H2-P1")  # a shape the old badge pattern refused
    assert done.returncode == 0, done.stderr
    with Session(engine) as s:
        badges = set(s.scalars(select(User.badge)))
    assert "BADGE-H2-P1" in badges
    assert not badges & set(refused)
