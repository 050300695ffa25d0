"""schemathesis against the real app on PostgreSQL: every operation of the OpenAPI document,
a bounded number of generated requests each, with a station, an operator and an admin token
and none: the service never answers 5xx. Deterministic (derandomized), under a minute."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy import Engine

from service.api.app import create_app
from service.db import make_sessionmaker
from service.demo import seed_demo
from service.sync_server.enrollment import issue_enroll_code
from service.users import create_token
from tests.conftest import _make_db

EXAMPLES_PER_OPERATION = 12
SEEDED_AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # fixed: the demo's times are relative


@pytest.fixture
def pg_engine(tmp_path: Path) -> Iterator[Engine]:
    for _url, engine in _make_db("pg", tmp_path):  # skips without PACKBENCH_TEST_PG_URL
        yield engine


def _credentials(engine: Engine) -> dict[str, dict[str, str]]:
    sessions = make_sessionmaker(engine)
    with sessions() as s, s.begin():
        seed_demo(s, now=SEEDED_AT)
        _station, code = issue_enroll_code(s, "bench-schemathesis")
        _op, operator = create_token(s, role="operator", name="schemathesis-op")
        _adm, admin = create_token(s, role="admin", name="schemathesis-admin")
    with TestClient(create_app(engine)) as client:
        station = client.post("/v1/stations/enroll", json={"code": code}).json()["token"]
    return {
        "none": {},
        "station": {"Authorization": f"Bearer {station}"},
        "operator": {"Authorization": f"Bearer {operator}"},
        "admin": {"Authorization": f"Bearer {admin}"},
    }


@pytest.mark.pg
def test_no_operation_answers_5xx_to_generated_requests(pg_engine: Engine) -> None:
    credentials = _credentials(pg_engine)
    app = create_app(pg_engine)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    server_errors: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        # Valid requests and invalid ones (wrong types, missing fields, out-of-range values).
        cases = st.one_of(*(operation.as_strategy(mode) for mode in GenerationMode))

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases)
        def no_5xx(case: schemathesis.Case) -> None:
            for kind, headers in credentials.items():
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    server_errors.append(
                        f"{kind}: {case.method} {case.formatted_path} -> "
                        f"{response.status_code} {response.text[:200]}"
                    )

        no_5xx()
    assert operations >= 20  # the whole API was walked, not an empty document
    assert not server_errors, "\n".join(sorted(set(server_errors))[:40])
