"""Product pictures for the pack screen: fetched in the background, kept on disk.

Packing never waits for a picture: `state(url)` answers at once (ready, loading, or why
not), and a fetch runs on the background runner. A picture once fetched is shown offline
too. A slow, missing or not-an-image answer is remembered for a while, and the slot says so.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from app.station.ports import Background

log = logging.getLogger(__name__)

MAX_BYTES = 5_000_000  # a product photo; anything larger is not meant for this slot
RETRY_AFTER_S = 300.0  # a failed picture is tried again after five minutes
_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")


class PictureKind(StrEnum):
    NONE = "none"  # the product has no picture
    READY = "ready"
    LOADING = "loading"
    SLOW = "slow"  # no answer in time
    MISSING = "missing"  # the server said it is not there (or could not be reached)
    NOT_AN_IMAGE = "not_an_image"


@dataclass(frozen=True, slots=True)
class PictureState:
    """What the picture slot shows: a file to draw, or why there is none."""

    kind: PictureKind
    path: Path | None = None


class PictureTimeout(Exception):
    """The picture server did not answer in time."""


def looks_like_image(data: bytes) -> bool:
    """PNG, JPEG, GIF or WebP by their first bytes (the view draws those)."""
    if data.startswith(_MAGIC):
        return True
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


class PictureShelf:
    """Pictures by URL in `folder`; `fetch(url)` runs in the background and returns bytes."""

    def __init__(
        self,
        folder: Path,
        fetch: Callable[[str], bytes],
        background: Background,
        on_ready: Callable[[str], None] = lambda _url: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = folder
        self.fetch = fetch
        self.background = background
        self.on_ready = on_ready
        self.clock = clock
        self._loading: set[str] = set()
        self._failed: dict[str, tuple[PictureKind, float]] = {}

    def path_for(self, url: str) -> Path:
        """Where the picture of `url` is kept (a hash: URLs are no file names)."""
        return self.folder / f"{hashlib.sha256(url.encode()).hexdigest()}.img"

    def state(self, url: str) -> PictureState:
        """The slot's state now; starts a background fetch when the picture is not kept yet."""
        if not url:
            return PictureState(PictureKind.NONE)
        path = self.path_for(url)
        if path.exists():
            return PictureState(PictureKind.READY, path)
        if url in self._loading:
            return PictureState(PictureKind.LOADING)
        failed = self._failed.get(url)
        if failed is not None and self.clock() - failed[1] < RETRY_AFTER_S:
            return PictureState(failed[0])
        self._loading.add(url)
        self.background(lambda: self.fetch(url), lambda result: self._fetched(url, result))
        return PictureState(PictureKind.LOADING)

    def _fetched(self, url: str, result: object) -> None:
        self._loading.discard(url)
        kind: PictureKind | None = None
        if isinstance(result, PictureTimeout):
            kind = PictureKind.SLOW
        elif isinstance(result, BaseException):
            kind = PictureKind.MISSING
        elif (
            not isinstance(result, bytes) or len(result) > MAX_BYTES or not looks_like_image(result)
        ):
            kind = PictureKind.NOT_AN_IMAGE
        if kind is not None:
            log.info("picture %s: %s (%s)", url[:200], kind.value, type(result).__name__)
            self._failed[url] = (kind, self.clock())
        else:
            assert isinstance(result, bytes)
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.path_for(url)
            partial = path.with_suffix(".part")
            partial.write_bytes(result)
            os.replace(partial, path)  # a half-written file is never shown
        self.on_ready(url)


def http_fetch(url: str, timeout_s: float = 5.0) -> bytes:
    """GET a picture with a deadline and a size limit (runs on the background runner)."""
    import httpx

    if not url.startswith(("http://", "https://")):
        raise ValueError("not an http(s) picture URL")
    try:
        with httpx.stream("GET", url, timeout=timeout_s, follow_redirects=True) as response:
            response.raise_for_status()
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:
                    return bytes(data)  # judged too large by the shelf
            return bytes(data)
    except httpx.TimeoutException as exc:
        raise PictureTimeout(str(exc)) from exc
