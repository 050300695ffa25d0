"""Pure rules of the sync server: mutation id continuity, codes, checksums, page dedup."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.sync_server.enrollment import normalise_code
from service.sync_server.errors import MutationGapError
from service.sync_server.pull import _last_of_each
from service.sync_server.push import check_ids
from sync.protocol import Change, Mutation, holdings_checksum

AT = datetime(2026, 1, 1, tzinfo=UTC)


def _muts(ids: list[int]) -> list[Mutation]:
    return [Mutation(id=i, type="scan_recorded", at=AT) for i in ids]


@given(last=st.integers(0, 50), start=st.integers(1, 60), n=st.integers(1, 10))
def test_consecutive_batches_are_accepted_or_refused_by_where_they_start(
    last: int, start: int, n: int
) -> None:
    ids = list(range(start, start + n))
    if start > last + 1:
        with pytest.raises(MutationGapError) as err:
            check_ids(_muts(ids), last)
        assert err.value.expected == last + 1
    else:
        new = check_ids(_muts(ids), last)
        assert [m.id for m in new] == [i for i in ids if i > last]


@given(ids=st.lists(st.integers(1, 20), min_size=2, max_size=8))
def test_non_consecutive_batches_are_always_refused(ids: list[int]) -> None:
    if all(b == a + 1 for a, b in pairwise(ids)):
        return
    with pytest.raises(MutationGapError) as err:
        check_ids(_muts(ids), 0)
    assert err.value.expected == 1


def test_enrol_codes_ignore_case_and_separators() -> None:
    assert normalise_code(" abcd-efgh jkmn ") == "ABCDEFGHJKMN"


def test_holdings_checksum_is_order_independent_and_sensitive_to_versions() -> None:
    assert holdings_checksum([(2, 1), (10, 3)]) == holdings_checksum([(10, 3), (2, 1)])
    assert holdings_checksum([(2, 1)]) != holdings_checksum([(2, 2)])
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert holdings_checksum([]) == empty


def test_a_page_sends_each_entity_once_at_its_last_position() -> None:
    changes = [
        Change(seq=1, entity="order", entity_id=1, data={"v": 1}),
        Change(seq=2, entity="product", entity_id=1, data={}),
        Change(seq=3, entity="order", entity_id=1, data=None),
    ]
    assert [(c.seq, c.entity) for c in _last_of_each(changes)] == [(2, "product"), (3, "order")]
