"""A supervisor at a real station against the real service process: badge + PIN all the way.

Enrolment keeps the station's PIN key in its keyring; the pull carries sealed verifiers;
the station checks the PIN offline, opens a service session for the supervisor screen, and
signs the override event, which the service verifies when it syncs.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.packing.events import PackEvent
from app.station.auth import PinChecker, PinVerdict
from app.station.replica_store import ReplicaStore
from app.station.supervision import signed_override
from app.station.supervisor_sessions import NotSignedIn, SupervisorSessions
from service.models import OrderEvent
from service.users import add_user
from sync.client import load_pin_key
from sync.errors import StationUnauthorized
from sync.protocol import MutationType, OverrideGranted
from tests.integration.sync.conftest import Station
from tests.integration.sync.service_runner import make_orders, station_mutations
from tests.support.fault_proxy import FaultProxy

PIN = "482915"


def test_supervisor_pin_session_and_proven_override_end_to_end(
    make_station, sessions: sessionmaker[Session], service_engine: Engine, proxy: FaultProxy
) -> None:
    with sessions() as s, s.begin():
        sup_id = add_user(s, name="Sam", role="supervisor", badge="S-SAM", pin=PIN).id
    st: Station = make_station("A")
    [oid] = make_orders(sessions, 1)
    epoch = st.engine.claim_order(oid).leases[0].epoch
    assert st.engine.run_once()  # the pull brings the user list with sealed verifiers
    store = ReplicaStore(st.replica, st.id)
    sam = store.user_by_badge("S-SAM")
    assert sam is not None and sam.pin is not None

    key = load_pin_key(proxy.url)  # kept by enrolment, in the keyring only
    pins = PinChecker(key, lambda: datetime.now(UTC))
    assert pins.check(sam, "000000").verdict is PinVerdict.WRONG
    right = pins.check(sam, PIN)
    assert right.verdict is PinVerdict.RIGHT and right.key is not None

    supervisors = SupervisorSessions(st.client.open_supervisor_session, st.client.supervisor)
    api = supervisors.api_for(sam.id)
    with pytest.raises(NotSignedIn):  # no session yet: the call never reaches the service
        api("GET", "overview", None)
    supervisors.sign_in(sam, PIN)
    overview = api("GET", "overview", None)
    assert "batches" in overview and "exceptions" in overview

    granted = PackEvent(
        MutationType.OVERRIDE_GRANTED,
        oid,
        OverrideGranted(kind="weight", supervisor_id=sam.id, reason="contents checked",
                        details={"box_no": 1, "grams": 3000}),
        epoch,
    )  # fmt: skip
    store.record([signed_override(granted, st.id, right.key)])
    forged = PackEvent(
        MutationType.OVERRIDE_GRANTED,
        oid,
        OverrideGranted(kind="weight", supervisor_id=sam.id, reason="not really here"),
        epoch,
    )
    store.record([forged])  # a station that never saw the PIN: no proof
    assert st.engine.run_once()
    assert station_mutations(service_engine, st.id) == {
        1: ("applied", None),
        2: ("rejected", "override_unproven"),
    }
    with Session(service_engine) as s:
        actors = s.scalars(
            select(OrderEvent.actor).where(
                OrderEvent.order_id == oid, OrderEvent.type == "override_granted"
            )
        ).all()
    assert actors == [f"user:{sup_id}"]


def test_a_supervisor_call_waits_for_the_sign_in_under_way_and_logout_ends_it(
    make_station, sessions: sessionmaker[Session], proxy: FaultProxy
) -> None:
    with sessions() as s, s.begin():
        add_user(s, name="Sam", role="supervisor", badge="S-SAM", pin=PIN)
    st: Station = make_station("A")
    assert st.engine.run_once()
    sam = ReplicaStore(st.replica, st.id).user_by_badge("S-SAM")
    assert sam is not None
    supervisors = SupervisorSessions(
        st.client.open_supervisor_session, st.client.supervisor, st.client.close_supervisor_session
    )
    try:
        supervisors.sign_in(sam, PIN)  # returns at once; the first call waits for it
        assert "batches" in supervisors.api_for(sam.id)("GET", "overview", None)
        supervisors.sign_in(sam, "000000")
        with pytest.raises(NotSignedIn, match="type the PIN again"):
            supervisors.api_for(sam.id)("GET", "overview", None)
        supervisors.sign_in(sam, PIN)
        api = supervisors.api_for(sam.id)
        api("GET", "overview", None)
        token = supervisors._by_user[sam.id].result()
        supervisors.sign_out(sam)
        with pytest.raises(NotSignedIn):
            api("GET", "overview", None)
        supervisors._worker.submit(lambda: None).result()  # the sign-out call has run
        with pytest.raises(StationUnauthorized, match="expired"):  # ended at the service too
            st.client.supervisor(token, "GET", "overview")
    finally:
        supervisors.close()
