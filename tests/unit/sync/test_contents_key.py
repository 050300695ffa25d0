"""One key per contents set, however the parcel was scanned, on both sides of the wire."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sync.contents import contents_key, contents_signature

skus = st.sampled_from(["MUG-BLUE", "PLT-WHT-27", "SPK-BT-MINI", "A", "Ü-1"])
lines = st.lists(st.tuples(skus, st.integers(min_value=1, max_value=9)), min_size=1, max_size=8)


def test_the_signature_reads_as_the_contents() -> None:
    assert contents_signature([("mug-blue", 1), ("PLT-WHT-27", 2), ("MUG-BLUE ", 1)], "m") == (
        "box=M|MUG-BLUE*2;PLT-WHT-27*2"
    )
    assert len(contents_key([("A", 1)], "M")) == 64


@given(lines, st.randoms(use_true_random=False))
def test_order_case_spacing_and_split_lines_do_not_matter(
    parcel: list[tuple[str, int]], rnd
) -> None:
    shuffled = list(parcel)
    rnd.shuffle(shuffled)
    # every line split into single units, written in another case with spaces around
    split = [(f" {sku.lower()} ", 1) for sku, qty in shuffled for _ in range(qty)]
    assert contents_key(split, " m ") == contents_key(parcel, "M")


@given(lines, lines)
def test_different_contents_or_box_get_different_keys(
    a: list[tuple[str, int]], b: list[tuple[str, int]]
) -> None:
    if contents_signature(a, "M") != contents_signature(b, "M"):
        assert contents_key(a, "M") != contents_key(b, "M")
    assert contents_key(a, "M") != contents_key(a, "L")
