"""`packbench-service product import|list|show` as subprocesses, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from service.catalogue.csv_file import COLUMNS
from service.models import ChangeRow, OrderEvent, OrderException, Product
from tests.integration.catalogue.conftest import held_shopify_order, order_by_channel_id
from tests.integration.ingest.conftest import count
from tests.support.service_process import run_cli

GOOD = """\
sku,name,gtins,aliases,weight,dimensions,image_url,serial_required,serial_pattern,active
mug-350-blu,Trail Mug 350 ml,4006381333931|96385074,SUP-77 OLD-MUG,0.45 kg,12x9x10 cm,https://cdn.example.com/mug.jpg,no,,yes
PLATE-24,Enamel Plate 24 cm,036000291452,,350 g,240x240x20 mm,,yes,SN[0-9]{8},
"""


def _write(tmp_path: Path, text: str | bytes, name: str = "catalogue.csv") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def _products(sessions: sessionmaker[Session]) -> dict[str, Product]:
    with sessions() as s:
        found = {p.sku: p for p in s.scalars(select(Product))}
        for p in found.values():
            _ = (list(p.gtins), list(p.aliases))
        return found


def test_import_loads_every_column_and_releases_the_held_order(
    service_db: tuple[str, Engine],
    client: TestClient,
    shops: sessionmaker[Session],
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    url, _ = service_db
    held = held_shopify_order(client, shops, 7001)

    done = run_cli("product", "import", _write(tmp_path, GOOD), "--db", url, env=cli_env)

    assert done.returncode == 0, done.stderr
    assert "2 created, 0 updated, 0 unchanged" in done.stdout
    assert f"orders no longer on hold: {held.number}" in done.stdout
    products = _products(shops)
    mug, plate = products["MUG-350-BLU"], products["PLATE-24"]
    assert sorted(g.gtin14 for g in mug.gtins) == ["00000096385074", "04006381333931"]
    assert sorted(a.code for a in mug.aliases) == ["OLD-MUG", "SUP-77"]
    assert (mug.weight_grams, mug.length_mm, mug.width_mm, mug.height_mm) == (450, 120, 90, 100)
    assert mug.image_url == "https://cdn.example.com/mug.jpg"
    assert (mug.serial_required, mug.serial_pattern, mug.active) == (False, None, True)
    assert (plate.serial_required, plate.serial_pattern) == (True, "SN[0-9]{8}")
    assert [g.gtin14 for g in plate.gtins] == ["00036000291452"]
    assert plate.active is True  # an empty `active` cell means yes

    order = order_by_channel_id(shops, "7001")
    assert order.status == "confirmed" and order.hold_reasons == []
    assert {ln.sku: ln.product_id for ln in order.lines} == {
        "MUG-350-BLU": mug.id,
        "PLATE-24": plate.id,
    }
    with shops() as s:
        last = s.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
        ).all()[-2:]
        open_exceptions = s.scalars(
            select(OrderException).where(
                OrderException.order_id == order.id, OrderException.resolved_at.is_(None)
            )
        ).all()
        changed = set(s.execute(select(ChangeRow.entity, ChangeRow.entity_id)).tuples())
    assert [(e.from_status, e.to_status, e.actor) for e in last] == [
        ("on_hold", "pending", "cli:product"),
        ("pending", "confirmed", "cli:product"),
    ]
    assert "catalogue" in last[0].payload["reason"]
    assert open_exceptions == []
    # Stations hear about both products and the order's new status in the next pull.
    assert {("product", mug.id), ("product", plate.id), ("order", order.id)} <= changed


def test_a_file_with_problems_imports_nothing_and_names_row_and_column(
    service_db: tuple[str, Engine],
    shops: sessionmaker[Session],
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    url, _ = service_db
    text = (
        "sku;name;gtins;weight\n"
        "A-1;Good one;4006381333931;250 g\n"
        "B-2;Bad check digit;4006381333932;250 g\n"
        "C-3;Odd unit;;3 stone\n"
        "a-1;Same SKU again;;1 kg\n"
        "D-4;Good two;;8 oz\n"
    )
    path = _write(tmp_path, text)

    refused = run_cli("product", "import", path, "--db", url, env=cli_env)

    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert lines[:3] == [
        "catalogue.csv: row 3, column gtins: '4006381333932' is not a valid GTIN: Invalid GTIN "
        "check digit for '4006381333932': Expected 1, got 2.",
        "catalogue.csv: row 4, column weight: Unknown weight unit 'stone'; use g, kg, lb or oz "
        "(for example '250 g').",
        "catalogue.csv: row 5, column sku: The SKU A-1 is already on row 2.",
    ]
    assert lines[3] == "catalogue.csv: 3 problem(s); nothing was imported."
    assert count(shops, Product) == 0

    skipped = run_cli("product", "import", path, "--skip-bad-rows", "--db", url, env=cli_env)

    assert skipped.returncode == 0, skipped.stderr
    assert "2 created, 0 updated, 0 unchanged, 3 row(s) skipped" in skipped.stdout
    products = _products(shops)
    assert sorted(products) == ["A-1", "D-4"]
    assert products["A-1"].name == "Good one" and products["D-4"].weight_grams == 227


def test_a_missing_column_or_a_non_utf8_file_stops_everything(
    service_db: tuple[str, Engine],
    shops: sessionmaker[Session],
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    url, _ = service_db
    no_name = _write(tmp_path, "sku,weigth\nA-1,1 kg\n", "no_name.csv")
    latin1 = _write(tmp_path, "sku,name\nA-1,Tasse\nB-2,Café crème\n".encode("latin-1"), "l1.csv")

    for path, expected in (
        (
            no_name,
            [
                "no_name.csv: row 1: header: missing column(s) name; see --help for the columns.",
                "no_name.csv: row 1: header: unknown column(s) weigth; see --help for the columns.",
            ],
        ),
        (
            latin1,
            [
                "l1.csv: row 3: byte 0xE9 at position 8 is not UTF-8; save the file as UTF-8 "
                "(in Excel: 'CSV UTF-8').",
            ],
        ),
    ):
        for extra in ([], ["--skip-bad-rows"]):
            run = run_cli("product", "import", path, *extra, "--db", url, env=cli_env)
            assert run.returncode == 1
            assert run.stderr.strip().splitlines()[:-1] == expected
    assert count(shops, Product) == 0


def test_a_later_file_changes_only_its_columns_and_list_and_show_read_back(
    service_db: tuple[str, Engine],
    shops: sessionmaker[Session],
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    url, _ = service_db
    first = run_cli("product", "import", _write(tmp_path, GOOD), "--db", url, env=cli_env)
    assert first.returncode == 0, first.stderr
    weights = _write(tmp_path, "sku,name,weight,active\nMUG-350-BLU,Trail Mug,500 g,no\n", "w.csv")

    done = run_cli("product", "import", weights, "--db", url, env=cli_env)

    assert done.returncode == 0, done.stderr
    assert "0 created, 1 updated, 0 unchanged" in done.stdout
    mug = _products(shops)["MUG-350-BLU"]
    assert (mug.name, mug.weight_grams, mug.active) == ("Trail Mug", 500, False)
    assert len(mug.gtins) == 2 and mug.image_url == "https://cdn.example.com/mug.jpg"

    listed = run_cli("product", "list", "--db", url, env=cli_env)
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == ["PLATE-24\tEnamel Plate 24 cm\t350 g\t00036000291452"]
    everything = run_cli("product", "list", "--inactive", "--db", url, env=cli_env)
    assert everything.stdout.splitlines()[0].endswith("\tinactive")

    by_gtin = run_cli("product", "show", "4006381333931", "--db", url, env=cli_env)
    assert by_gtin.returncode == 0, by_gtin.stderr
    assert "sku:             MUG-350-BLU" in by_gtin.stdout
    assert "dimensions:      120x90x100 mm" in by_gtin.stdout
    assert "active:          no" in by_gtin.stdout
    missing = run_cli("product", "show", "NOPE", "--db", url, env=cli_env)
    assert missing.returncode == 1
    assert "No product has the SKU, GTIN or alias 'NOPE'" in missing.stderr


def test_help_and_the_docs_describe_every_column(cli_env: dict[str, str]) -> None:
    shown = run_cli("product", "import", "--help", env=cli_env)
    assert shown.returncode == 0
    docs = (Path(__file__).resolve().parents[3] / "docs" / "catalogue.md").read_text()
    for column in COLUMNS:
        assert f"\n  {column} " in shown.stdout, column
        assert f"| `{column}` |" in docs, column


def test_revalidate_sweeps_up_an_order_that_raced_its_product(
    service_db: tuple[str, Engine],
    client: TestClient,
    shops: sessionmaker[Session],
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    url, _ = service_db
    held = held_shopify_order(client, shops, 7101)
    # As if both products committed while the order's transaction was still open: each
    # missed the other, so nothing released the order.
    with shops() as s, s.begin():
        s.add_all([Product(sku="MUG-350-BLU", name="Mug"), Product(sku="PLATE-24", name="Plate")])

    nothing_yet = order_by_channel_id(shops, "7101")
    run = run_cli("product", "revalidate", "--db", url, env=cli_env)

    assert nothing_yet.status == "on_hold"
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"orders no longer on hold: {held.number}"
    assert order_by_channel_id(shops, "7101").status == "confirmed"
    again = run_cli("product", "revalidate", "--db", url, env=cli_env)
    assert again.stdout.strip() == "nothing to release"
