"""Product pictures: fetched in the background, kept on disk, shown offline; a slow, missing
or not-an-image answer is said in the slot and packing never waits.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.station.pictures import PictureKind, PictureShelf, PictureTimeout

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
URL = "https://shop.example/images/mug.png"


class Later:
    """A background runner that holds jobs until the test lets them run."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Callable[[], object], Callable[[object], None]]] = []

    def __call__(self, fn: Callable[[], object], done: Callable[[object], None]) -> None:
        self.jobs.append((fn, done))

    def run_all(self) -> None:
        jobs, self.jobs = self.jobs, []
        for fn, done in jobs:
            try:
                result: object = fn()
            except Exception as exc:
                result = exc
            done(result)


def shelf(
    tmp_path: Path, answer: Callable[[str], bytes], now: list[float]
) -> tuple[PictureShelf, Later, list[str]]:
    later, ready = Later(), []
    return (
        PictureShelf(tmp_path / "pictures", answer, later, ready.append, clock=lambda: now[0]),
        later,
        ready,
    )


def test_a_picture_loads_in_the_background_and_is_shown_offline_later(tmp_path: Path) -> None:
    now = [0.0]
    pictures, later, ready = shelf(tmp_path, lambda _url: PNG, now)
    assert pictures.state(URL).kind is PictureKind.LOADING  # answered at once, nothing waited
    assert pictures.state(URL).kind is PictureKind.LOADING and len(later.jobs) == 1  # one fetch
    later.run_all()
    assert ready == [URL]
    state = pictures.state(URL)
    assert state.kind is PictureKind.READY and state.path is not None
    assert state.path.read_bytes() == PNG

    def offline(_url: str) -> bytes:
        raise OSError("network unreachable")

    again, later2, _ = shelf(tmp_path, offline, now)  # a restart, offline
    assert again.state(URL).kind is PictureKind.READY and later2.jobs == []


def test_slow_missing_and_not_an_image_are_said_and_retried_later(tmp_path: Path) -> None:
    now = [0.0]

    def slow(_url: str) -> bytes:
        raise PictureTimeout("read timed out")

    pictures, later, _ = shelf(tmp_path, slow, now)
    pictures.state(URL)
    later.run_all()
    assert pictures.state(URL).kind is PictureKind.SLOW
    assert later.jobs == []  # not fetched again at once

    def missing(_url: str) -> bytes:
        raise OSError("404 Not Found")

    pictures, later, _ = shelf(tmp_path, missing, now)
    pictures.state(URL)
    later.run_all()
    assert pictures.state(URL).kind is PictureKind.MISSING

    pictures, later, _ = shelf(tmp_path, lambda _url: b"<html>Not found</html>", now)
    pictures.state(URL)
    later.run_all()
    assert pictures.state(URL).kind is PictureKind.NOT_AN_IMAGE
    assert not pictures.path_for(URL).exists()  # nothing bad is kept
    now[0] = 301.0
    assert pictures.state(URL).kind is PictureKind.LOADING  # tried again after five minutes


def test_a_product_without_a_picture_fetches_nothing(tmp_path: Path) -> None:
    pictures, later, _ = shelf(tmp_path, lambda _url: PNG, [0.0])
    assert pictures.state("").kind is PictureKind.NONE and later.jobs == []
