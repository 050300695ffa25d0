"""Console: catalogue import and product edits, station users, lead times, languages, and a
database that fails under a page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from service.lifecycle import OrderStatus, transition
from service.models import OfficeAudit, OfficeUser, Product, User
from service.security import verify_pin
from service.users import add_user, create_token
from service.web import i18n
from sync import clock
from tests.integration.console.conftest import Floor, sign_in
from tests.support import factories

T0 = datetime(2031, 5, 6, 14, 0, tzinfo=UTC)
HIDDEN = re.compile(r'name="(carried|digest|seen)" value="([^"]*)"')


def _hidden(page: str) -> dict[str, str]:
    return {k: v.replace("&#34;", '"').replace("&quot;", '"') for k, v in HIDDEN.findall(page)}


def _csv(*rows: str) -> bytes:
    return ("sku,name,gtins,weight\n" + "\n".join(rows) + "\n").encode()


def test_an_import_is_previewed_then_applied_whole(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    csrf = sign_in(app_client, "admin")
    bad = _csv("MUG-1,Mug,4006381333931,350 g", "MUG-2,,123,heavy")
    r = app_client.post(
        "/console/catalogue/import",
        data={"csrf": csrf},
        files={"file": ("mugs.csv", bad, "text/csv")},
    )
    assert r.status_code == 422
    assert "<td>3</td><td>name</td>" in r.text and "<td>3</td><td>weight</td>" in r.text
    assert "Import all of it" not in r.text
    with sessions() as s:
        assert s.scalar(select(Product).where(Product.sku == "MUG-1")) is None

    good = _csv("MUG-1,Mug,4006381333931,350 g", "MUG-2,Mug large,,0.5 kg")
    r = app_client.post(
        "/console/catalogue/import",
        data={"csrf": csrf},
        files={"file": ("mugs.csv", good, "text/csv")},
    )
    assert r.status_code == 200 and "Importing it would create" in r.text
    assert "<strong>2</strong>" in r.text
    with sessions() as s:  # a preview stores nothing
        assert s.scalar(select(Product).where(Product.sku == "MUG-1")) is None
    form = _hidden(r.text)
    tampered = app_client.post(
        "/console/catalogue/apply",
        data={"csrf": csrf, "carried": form["carried"], "digest": "0" * 64},
    )
    assert tampered.status_code == 422 and "did not arrive intact" in tampered.text
    r = app_client.post(
        "/console/catalogue/apply",
        data={"csrf": csrf, "name": "mugs.csv", "reason": "spring range", **form},
    )
    assert r.status_code == 200 and "Imported mugs.csv: 2 created" in r.text
    with sessions() as s:
        mug = s.scalars(select(Product).where(Product.sku == "MUG-1")).one()
        assert mug.weight_grams == 350 and [g.gtin14 for g in mug.gtins] == ["04006381333931"]
        audit = s.scalars(select(OfficeAudit).where(OfficeAudit.action == "catalogue_import")).one()
        assert audit.reason == "spring range" and audit.details["created"] == 2
    # The operator role may not import (the matrix checks every role; this is the message).
    app_client.cookies.clear()
    csrf = sign_in(app_client, "operator")
    r = app_client.post(
        "/console/catalogue/import", data={"csrf": csrf}, files={"file": ("m.csv", good)}
    )
    assert r.status_code == 403 and "needs the admin role" in r.text


def test_a_product_edit_is_checked_and_not_lost_to_a_concurrent_one(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s, s.begin():
        mug = Product(sku="MUG-9", name="Mug", weight_grams=300, active=True)
        s.add(mug)
        s.add(Product(sku="CUP-1", name="Cup", active=True))
        s.flush()
        mug_id = mug.id
    csrf = sign_in(app_client, "operator")
    page = app_client.get(f"/console/products/{mug_id}")
    assert page.status_code == 200 and 'value="300 g"' in page.text
    seen = _hidden(page.text)["seen"]
    form = {"csrf": csrf, "seen": seen, "name": "Mug", "weight": "300 g", "active": "true"}
    bad = app_client.post(f"/console/products/{mug_id}", data={**form, "gtins": "12345670000"})
    assert bad.status_code == 422 and "Nothing was saved: gtins:" in bad.text
    r = app_client.post(
        f"/console/products/{mug_id}",
        data={**form, "name": "Mug, blue", "gtins": "96385074", "dimensions": "10x8x8 cm"},
    )
    assert r.status_code == 200 and "Saved." in r.text
    with sessions() as s:
        saved = s.get_one(Product, mug_id)
        assert (saved.name, saved.length_mm, saved.active) == ("Mug, blue", 100, True)
        assert [g.gtin14 for g in saved.gtins] == ["00000096385074"]
    # A second person still had the old form open: refused, shown what changed.
    late = app_client.post(f"/console/products/{mug_id}", data={**form, "name": "Mug, red"})
    assert late.status_code == 409 and "someone changed it after you opened it" in late.text
    assert "Mug, blue" in late.text
    with sessions() as s:
        assert s.get_one(Product, mug_id).name == "Mug, blue"
        audit = s.scalars(select(OfficeAudit).where(OfficeAudit.action == "product_edit")).one()
        assert audit.details["changed"]["name"] == ["Mug", "Mug, blue"]
    # A barcode that is another product's is refused by the importer's own check.
    fresh = _hidden(app_client.get(f"/console/products/{mug_id}").text)["seen"]
    with sessions() as s, s.begin():
        cup = s.scalars(select(Product).where(Product.sku == "CUP-1")).one()
        cup_id = cup.id
    cup_seen = _hidden(app_client.get(f"/console/products/{cup_id}").text)["seen"]
    clash = app_client.post(
        f"/console/products/{cup_id}",
        data={"csrf": csrf, "seen": cup_seen, "name": "Cup", "gtins": "96385074"},
    )
    assert clash.status_code == 422 and "MUG-9" in clash.text
    off = app_client.post(
        f"/console/products/{mug_id}",
        data={"csrf": csrf, "seen": fresh, "name": "Mug, blue", "gtins": "96385074"},
    )
    assert off.status_code == 200
    with sessions() as s:
        assert s.get_one(Product, mug_id).active is False  # the box was left unticked


def test_station_users_are_managed_by_the_rules_of_the_cli(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s, s.begin():
        s.add(Product(sku="MUG-9", name="Mug", active=True))
    csrf = sign_in(app_client, "admin")
    new = {"csrf": csrf, "name": "Ana Pop", "role": "supervisor", "pin": "482913"}
    clash = app_client.post("/console/users", data={**new, "badge": "MUG-9"})
    assert clash.status_code == 409 and "Give the user another code" in clash.text
    assert 'value="Ana Pop"' in clash.text  # what was typed stays
    short = app_client.post("/console/users", data={**new, "badge": "B-7", "pin": "12"})
    assert short.status_code == 422 and "A PIN is 6-12 digits." in short.text
    r = app_client.post("/console/users", data={**new, "badge": "B-7", "language": "ro"})
    assert r.status_code == 200 and "The user was added" in r.text and "Ana Pop" in r.text
    assert "482913" not in r.text
    with sessions() as s:
        ana = s.scalars(select(User).where(User.badge == "B-7")).one()
        ana.pin_failures, ana.pin_locked_until = 5, T0
        s.commit()
        uid = ana.id
        assert ana.language == "ro" and ana.pin_hash and verify_pin(ana.pin_hash, "482913")

    r = app_client.post(
        f"/console/users/{uid}", data={"csrf": csrf, "role": "packer", "language": "ro"}
    )
    assert r.status_code == 200
    wrong = app_client.post(f"/console/users/{uid}", data={"csrf": csrf, "role": "boss"})
    assert wrong.status_code == 422 and "Unknown role" in wrong.text
    lang = app_client.post(
        f"/console/users/{uid}", data={"csrf": csrf, "role": "packer", "language": "tlh"}
    )
    assert lang.status_code == 422 and "Unknown language" in lang.text
    r = app_client.post(f"/console/users/{uid}/pin", data={"csrf": csrf, "pin": "730261"})
    assert r.status_code == 200 and "The new PIN is set" in r.text
    nope = app_client.post(f"/console/users/{uid}/active", data={"csrf": csrf, "active": "false"})
    assert nope.status_code == 422 and "Say why" in nope.text
    r = app_client.post(
        f"/console/users/{uid}/active",
        data={"csrf": csrf, "active": "false", "reason": "left the company"},
    )
    assert r.status_code == 200 and "disabled" in r.text
    with sessions() as s:
        ana = s.get_one(User, uid)
        assert (ana.role, ana.language, ana.active) == ("packer", "ro", False)
        assert ana.pin_hash and verify_pin(ana.pin_hash, "730261")
        assert (ana.pin_failures, ana.pin_locked_until) == (0, None)
        query = select(OfficeAudit).where(OfficeAudit.action.like("user_%"))
        rows = list(s.scalars(query.order_by(OfficeAudit.id)))
    assert [a.action for a in rows] == ["user_add", "user_update", "user_pin", "user_disable"]
    assert rows[-1].reason == "left the company"
    assert not any("482913" in str(a.details) or "730261" in str(a.details) for a in rows)
    r = app_client.post(f"/console/users/{uid}/active", data={"csrf": csrf, "active": "true"})
    assert r.status_code == 200 and "enabled again" in r.text


def test_lead_times_are_percentiles_over_the_chosen_window(
    app_client: TestClient, office: None, sessions: sessionmaker[Session]
) -> None:
    hours = [1, 2, 3]
    with sessions() as s, s.begin():
        for i, lead in enumerate(hours):
            packed_at = T0 - timedelta(hours=4 - i)
            with clock.frozen(packed_at - timedelta(hours=lead)):
                order = factories.order(s, status="picking", age_hours=0)
                order.ordered_at = packed_at - timedelta(hours=lead)
            with clock.frozen(packed_at):
                transition(s, order, OrderStatus.PACKED, actor="station:1")
            if i == 2:
                with clock.frozen(packed_at + timedelta(minutes=30)):
                    transition(s, order, OrderStatus.SHIPPED, actor="office:x")
        with clock.frozen(T0 - timedelta(days=3, hours=50)):
            old = factories.order(s, status="picking", age_hours=0)
            old.ordered_at = None  # from when it reached us
        with clock.frozen(T0 - timedelta(days=3)):
            transition(s, old, OrderStatus.PACKED, actor="station:1")
    with clock.frozen(T0):
        sign_in(app_client, "viewer")
        today = app_client.get("/console/")
        week = app_client.get("/console/", params={"window": "7d"})
        bogus = app_client.get("/console/", params={"window": "'; drop table orders"})

    def figure(page: str, key: str) -> str:
        return " ".join(page.split(f'id="lead-{key}"')[1].split("</div>")[0].split())

    assert "p50 2 h 00 min · p95 3 h 00 min" in figure(today.text, "order_to_packed")
    assert "3 orders" in figure(today.text, "order_to_packed")
    assert "p50 30 min · p95 30 min" in figure(today.text, "packed_to_shipped")
    # Over 7 days the 50-hour one counts too: p50 of 1, 2, 3, 50 h is 2 h; p95 is 50 h.
    assert "p50 2 h 00 min · p95 2 d 2 h" in figure(week.text, "order_to_packed")
    assert bogus.status_code == 200 and 'value="today" selected' in bogus.text


def _pseudo(message: str) -> str:
    return "⟦" + message.replace("a", "á").replace("e", "é").replace("o", "ö") + "⟧"


def test_the_extracted_sentences_are_current() -> None:
    with (i18n.LOCALE_DIR / "console.pot").open("rb") as f:
        committed = {m.id for m in read_po(f) if m.id}
    fresh = {m.id for m in i18n.extract() if m.id}
    assert fresh == committed, "run `.venv/bin/python -m service.web.i18n` and commit the .pot"


def test_the_console_speaks_the_readers_language(
    app_client: TestClient,
    floor: Floor,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert i18n.from_browser("de-AT,de;q=0.9,en;q=0.5") == "de"
    assert i18n.from_browser("tlh, fr;q=0, it;q=0.4") == "it"
    assert i18n.from_browser("") == "en"
    with (i18n.LOCALE_DIR / "console.pot").open("rb") as f:
        catalog = read_po(f, locale="hu")
    for message in catalog:
        if message.id:
            message.string = _pseudo(str(message.id))
    with (tmp_path / "hu.po").open("wb") as f:
        write_po(f, catalog)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)

    csrf = sign_in(app_client, "admin")
    app_client.headers["Accept-Language"] = "hu-HU,hu;q=0.9"
    page = app_client.get("/console/users")
    assert '<html lang="hu">' in page.text and page.headers["content-language"] == "hu"
    assert _pseudo("Orders") in page.text and _pseudo("Add a user") in page.text
    assert ">Orders<" not in page.text and ">Add a user<" not in page.text
    # Her own choice beats the browser's; a language nobody ships is refused.
    bad = app_client.post("/console/language", data={"csrf": csrf, "language": "tlh"})
    assert bad.status_code == 422 and "Unknown language" in bad.text
    r = app_client.post(
        "/console/language", data={"csrf": csrf, "language": "de", "next": "/console/users"}
    )
    assert r.status_code == 200 and '<html lang="de">' in r.text
    assert ">Orders<" in r.text  # no German catalogue yet: English, never a message id
    with sessions() as s:
        admin = s.scalars(select(OfficeUser).where(OfficeUser.email == "admin@example.com")).one()
        assert admin.language == "de"


def test_a_broken_database_answers_a_page_for_a_person_and_json_for_the_api(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session], service_engine: Engine
) -> None:
    with sessions() as s, s.begin():
        _row, token = create_token(s, role="operator", name="ops")
        add_user(s, name="x", role="packer", badge="B-1")
    sign_in(app_client, "operator")
    assert app_client.get("/console/jobs").status_code == 200
    with service_engine.begin() as conn:
        conn.execute(text("ALTER TABLE outbound_jobs RENAME TO outbound_jobs_gone"))
    try:
        page = app_client.get("/console/jobs")
        api = app_client.get("/v1/jobs", headers={"Authorization": f"Bearer {token}"})
    finally:
        with service_engine.begin() as conn:
            conn.execute(text("ALTER TABLE outbound_jobs_gone RENAME TO outbound_jobs"))
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert "The database did not answer as it should" in page.text
    assert "Sign out" in page.text  # still the console, with its navigation
    assert "outbound_jobs" not in page.text  # no SQL shown to a person
    assert api.status_code >= 500 and api.headers["content-type"] == "application/json"
    assert app_client.get("/console/jobs").status_code == 200  # and back once it is


def test_an_unexpected_failure_on_a_console_page_is_a_page_too(
    app_client: TestClient, floor: Floor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.web import jobs

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug with customer data: Jane Doe")

    sign_in(app_client, "viewer")
    monkeypatch.setattr(jobs, "list_jobs", broken)
    r = app_client.get("/console/jobs")
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in r.text and "Jane Doe" not in r.text
    api = app_client.get("/v1/jobs")  # no token: the API still answers JSON
    assert api.headers["content-type"] == "application/json"
