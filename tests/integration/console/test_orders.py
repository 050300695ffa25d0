"""Console orders: search (escaped, never a 500), the order view, actions, concurrency."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.models import Label, Order, OrderEvent, OrderException, Parcel
from service.office.sessions import SignedIn
from service.supervisor import actions
from tests.integration.console.conftest import Floor, sign_in


def _version(sessions: sessionmaker[Session], order_id: int) -> tuple[int, str, int]:
    with sessions() as s:
        order = s.get(Order, order_id)
        assert order is not None
        last = s.scalar(
            select(OrderEvent.id)
            .where(OrderEvent.order_id == order_id)
            .order_by(OrderEvent.id.desc())
        )
        return order.version, order.status, last or 0


def test_search_input_is_escaped_and_sql_is_just_text(app_client: TestClient, floor: Floor) -> None:
    sign_in(app_client, "viewer")
    for q in (
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "%",
        "_",
        "x\\y",
        "Robert'); DROP TABLE orders;--",
    ):
        r = app_client.get("/console/orders", params={"q": q})
        assert r.status_code == 200, q
        assert "<script>alert(1)</script>" not in r.text
        assert "No orders match." in r.text, q
    r = app_client.get("/console/orders", params={"q": "<script>alert(1)</script>"})
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert (
        app_client.get("/console/orders", params={"q": "Jane"}).text.count("/console/orders/") == 1
    )


def test_search_finds_an_order_by_what_a_customer_quotes(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s, s.begin():
        order = s.get(Order, floor.confirmed_id)
        assert order is not None
        order.channel_order_name, order.phone, order.email = (
            "#1042",
            "+4930901820",
            "Max@Example.com",
        )
        s.add(Parcel(order_id=order.id, box_no=1, tracking_number="JD0141234567"))
        number = order.number
    sign_in(app_client, "viewer")
    link = f'href="/console/orders/{floor.confirmed_id}"'
    for q in (
        number,
        number.lower(),
        "#1042",
        "1042",
        "030 901820".replace("030", "+49 30"),
        "Max@Example.com",
        "JD0141234567",
        "JD 0141 234567",
    ):
        r = app_client.get("/console/orders", params={"q": q})
        assert link in r.text, q
        assert f'href="/console/orders/{floor.held_id}"' not in r.text, q
    r = app_client.get("/console/orders", params={"exception": "1"})
    assert f'href="/console/orders/{floor.held_id}"' in r.text and link not in r.text


def test_paging_continues_where_the_page_ended(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    from tests.support import factories

    with sessions() as s, s.begin():
        for _ in range(55):
            factories.order(s, status="confirmed")
    sign_in(app_client, "viewer")
    first = app_client.get("/console/orders")
    assert first.text.count('href="/console/orders/') == 50
    assert "Older orders" in first.text
    before = first.text.split("before=")[1].split('"')[0]
    second = app_client.get(f"/console/orders?before={before}")
    assert second.text.count('href="/console/orders/') == 7
    assert "Older orders" not in second.text


def test_fixing_a_held_address_releases_the_order(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    csrf = sign_in(app_client, "operator")
    page = app_client.get(f"/console/orders/{floor.held_id}")
    assert "is not valid for DE" in page.text
    version, _status, seen = _version(sessions, floor.held_id)
    form = {
        "csrf": csrf,
        "version": str(version),
        "seen_event": str(seen),
        "name": "Jane Doe",
        "street1": "Hauptstraße 1",
        "city": "Berlin",
        "country": "Germany",
        "reason": "customer gave the right postcode",
    }
    # Still wrong: nothing changes, the page says what is wrong.
    r = app_client.post(
        f"/console/orders/{floor.held_id}/address", data={**form, "postcode": "123"}
    )
    assert r.status_code == 422 and "is not valid for DE" in r.text
    assert _version(sessions, floor.held_id)[:2] == (version, "on_hold")
    r = app_client.post(
        f"/console/orders/{floor.held_id}/address", data={**form, "postcode": "D-10115"}
    )
    assert r.status_code == 200 and "The address was saved and re-validated." in r.text
    # The timeline says what changed and what normalisation made of what was typed.
    assert "postcode: “1011” → “10115” (typed “D-10115”)" in r.text
    assert "country: “DE”" not in r.text  # "Germany" is DE: not a change
    with sessions() as s:
        order = s.get(Order, floor.held_id)
        assert order is not None
        assert (order.status, order.ship_postcode, order.ship_country) == (
            "confirmed",
            "10115",
            "DE",
        )
        events = s.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id)).all()
        edit = next(e for e in events if e.type == "address_edited")
        assert edit.actor == "office:operator@example.com"
        assert edit.payload["reason"] == "customer gave the right postcode"
        assert not s.scalars(
            select(OrderException).where(
                OrderException.order_id == order.id, OrderException.resolved_at.is_(None)
            )
        ).all()


def test_a_second_person_sees_what_changed_and_is_not_overwritten(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    csrf = sign_in(app_client, "operator")
    version, _status, seen = _version(sessions, floor.confirmed_id)
    # Someone else holds the order after our page was rendered.
    other = SignedIn(0, "other@example.com", "Other", "operator", 0, "")
    with sessions() as s, s.begin():
        actions.hold_order(s, floor.confirmed_id, other, "wrong colour, phoned", None)
    r = app_client.post(
        f"/console/orders/{floor.confirmed_id}/cancel",
        data={"csrf": csrf, "version": str(version), "seen_event": str(seen), "reason": "dup"},
    )
    assert r.status_code == 409
    assert "was not changed" in r.text and "What changed since you looked" in r.text
    assert "wrong colour, phoned" in r.text and "office:other@example.com" in r.text
    assert _version(sessions, floor.confirmed_id)[1] == "on_hold"


def test_hold_release_cancel_are_audited_with_who_and_why(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    csrf = sign_in(app_client, "operator")
    oid = floor.confirmed_id
    with sessions() as s, s.begin():
        s.add(
            Label(
                order_id=oid,
                carrier="house",
                tracking_number="HX1",
                format="zpl",
                content=b"^XA^FDlabel^FS^XZ",
                weight_min_grams=0,
                weight_max_grams=1000,
            )
        )
    r = app_client.get(f"/console/orders/{oid}")
    label_id = r.text.split('href="/console/labels/')[1].split('"')[0]
    download = app_client.get(f"/console/labels/{label_id}")
    assert download.content == b"^XA^FDlabel^FS^XZ"
    assert "attachment" in download.headers["content-disposition"]
    for action, status in (("hold", "on_hold"), ("release", "confirmed"), ("cancel", "cancelled")):
        version, _s, seen = _version(sessions, oid)
        r = app_client.post(
            f"/console/orders/{oid}/{action}",
            data={
                "csrf": csrf,
                "version": str(version),
                "seen_event": str(seen),
                "reason": f"why {action}",
            },
        )
        assert r.status_code == 200, r.text
        assert _version(sessions, oid)[1] == status
    with sessions() as s:
        facts = [
            e.payload
            for e in s.scalars(
                select(OrderEvent).where(
                    OrderEvent.order_id == oid, OrderEvent.type == "supervisor_action"
                )
            )
        ]
        assert [(f["action"], f["reason"], f["office_user"]) for f in facts] == [
            ("hold", "why hold", "operator@example.com"),
            ("release", "why release", "operator@example.com"),
            ("cancel", "why cancel", "operator@example.com"),
        ]
        label = s.get(Label, int(label_id))
        assert label is not None and label.status == "cancelled"


def test_a_viewer_sees_no_action_forms(app_client: TestClient, floor: Floor) -> None:
    sign_in(app_client, "viewer")
    r = app_client.get(f"/console/orders/{floor.held_id}")
    assert r.status_code == 200
    assert "/release" not in r.text and "Edit the shipping address" not in r.text


def test_exceptions_queue_links_and_resolves_with_a_reason(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    csrf = sign_in(app_client, "operator")
    r = app_client.get("/console/exceptions?kind=validation")
    assert f'href="/console/orders/{floor.held_id}"' in r.text
    with sessions() as s:
        exc = s.scalar(select(OrderException).where(OrderException.order_id == floor.held_id))
        assert exc is not None
    r = app_client.post(
        f"/console/exceptions/{exc.id}/resolve",
        data={"csrf": csrf, "reason": "checked with the shop", "kind": "validation"},
    )
    assert r.status_code == 200 and "Marked resolved." in r.text
    again = app_client.post(
        f"/console/exceptions/{exc.id}/resolve", data={"csrf": csrf, "reason": "twice"}
    )
    assert again.status_code == 409 and "already resolved" in again.text
    with sessions() as s:
        row = s.get(OrderException, exc.id)
        assert row is not None and row.resolved_by == "office:operator@example.com"
        assert row.resolution == "checked with the shop"


def test_customer_data_with_html_in_it_is_shown_escaped(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    evil = '<img src=x onerror="alert(1)">'
    with sessions() as s, s.begin():
        order = s.get(Order, floor.held_id)
        assert order is not None
        order.ship_name, order.ship_city, order.email = evil, evil, "a@b.c"
        order.hold_reasons = [{"code": "operator_hold", "message": evil}]
    sign_in(app_client, "operator")
    for url in (f"/console/orders/{floor.held_id}", "/console/orders", "/console/exceptions"):
        r = app_client.get(url)
        assert r.status_code == 200
        assert evil not in r.text, url
    assert (
        "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;"
        in app_client.get(f"/console/orders/{floor.held_id}").text
    )
