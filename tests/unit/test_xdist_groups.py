"""`./dev test` runs pytest with `--dist loadgroup` so that each `xdist_group` (the installer
build and its chroot tests, the end-to-end station runs) stays on one worker: one builds the
installers while the other runs the rest, instead of one waiting minutes for the other's
build lock. pytest 9.2 with pytest-xdist 3.8 dropped the grouping without a word
(pytest-xdist#1386); this fails if a pytest or xdist release does that again."""

from __future__ import annotations

import pytest


@pytest.mark.xdist_group("canary")
def test_grouped_tests_carry_their_group_under_loadgroup(request: pytest.FixtureRequest) -> None:
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run by a pytest-xdist worker with --dist loadgroup")
    assert request.node.nodeid.endswith("@canary"), request.node.nodeid
