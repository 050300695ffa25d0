"""`packbench --demo`: an embedded central service on SQLite, seeded, with this station enrolled.

The service runs in this process on a loopback port (uvicorn on a thread), on a fresh
SQLite file in a temporary directory; the station talks to it over HTTP exactly as it would
to a real server. Its token lives in an in-memory keyring that dies with the demo.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from app.config import StationPaths, StationSettings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

DEMO_STATION = "demo-station"
DEMO_BADGES = (("BADGE-P001", "Packer (no PIN)"), ("BADGE-S001", "Supervisor (PIN 123456)"))


class DemoKeyring(KeyringBackend):
    """Keeps the demo station's token in memory only: nothing to clean up, nothing on disk."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self._store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def previewable_house_labels(session: Session) -> None:
    """Make the demo's house-carrier labels PDF, so each gets a true PNG preview.

    The demo's orders ship with the house carrier. Its ZPL is native (text and barcode
    commands the printer draws), which the station cannot draw for a preview (it has no ZPL
    interpreter): the PNG beside it would only say so. As PDF, the station rasterises the
    label for the (file) ZPL printer at its dpi, and the preview is those very dots.
    """
    from sqlalchemy import select

    from service.models import Channel

    for channel in session.scalars(select(Channel)):
        settings = dict(channel.settings or {})
        carriers = dict(settings.get("carriers") or {})
        carriers["house"] = {**dict(carriers.get("house") or {}), "label_format": "pdf"}
        channel.settings = {**settings, "carriers": carriers}


@dataclass
class DemoService:
    """The embedded service: its data directory, URL and the thread serving it."""

    data_dir: Path
    url: str
    owns_dir: bool
    _server: object = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @classmethod
    def start(cls, data_dir: Path | None = None) -> DemoService:
        """Create, seed and serve a fresh demo database; returns once it answers."""
        import uvicorn

        from service.api.app import create_app
        from service.db import make_engine, make_sessionmaker
        from service.demo import seed_demo
        from service.schema import create_all

        owns = data_dir is None
        root = Path(tempfile.mkdtemp(prefix="packbench-demo-")) if data_dir is None else data_dir
        root.mkdir(parents=True, exist_ok=True)
        keyring.set_keyring(DemoKeyring())
        engine = make_engine(f"sqlite:///{root / 'service.sqlite3'}")
        create_all(engine)
        with make_sessionmaker(engine)() as session, session.begin():
            seed_demo(session)
            previewable_house_labels(session)
        port = _free_port()
        config = uvicorn.Config(
            create_app(engine), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="demo-service", daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        if not server.started:
            raise RuntimeError("the embedded demo service did not start")
        url = f"http://127.0.0.1:{port}"
        log.info("demo service on %s, data in %s", url, root)
        return cls(root, url, owns, server, thread)

    def configure(self, paths: StationPaths, settings: StationSettings) -> StationSettings:
        """Enroll this station and point it at simulated and preview devices."""
        from service.db import make_engine, make_sessionmaker
        from service.sync_server.enrollment import issue_enroll_code
        from sync.client import enroll

        engine = make_engine(f"sqlite:///{self.data_dir / 'service.sqlite3'}")
        with make_sessionmaker(engine)() as session, session.begin():
            _station, code = issue_enroll_code(session, DEMO_STATION)
        engine.dispose()
        enrolled = enroll(self.url, code, app_version="demo")
        settings = dataclasses.replace(
            settings,
            server_url=self.url,
            station_name=enrolled.station_name,
            scale=settings.scale if settings.scale not in ("", "manual") else "sim://",
            label_printer=settings.label_printer or f"file://{paths.labels_dir}?lang=zpl",
            document_printer=settings.document_printer or f"pdf://{paths.documents_dir}",
        )
        paths.labels_dir.mkdir(parents=True, exist_ok=True)
        paths.documents_dir.mkdir(parents=True, exist_ok=True)
        return settings

    def stop(self) -> None:
        """Stop serving; remove the temporary directory if the demo made it."""
        self._server.should_exit = True  # type: ignore[attr-defined]
        self._thread.join(timeout=5)
        if self.owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
