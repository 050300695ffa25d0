"""Station settings: a typed, versioned TOML file with step-by-step migrations.

Device URLs, the server URL and the station name are settings. Secrets never are: the
station token lives in the OS keyring (see sync.client). Two layers: the machine-wide file
(`/etc/packbench/station.toml`, written by the installer's preseed; see
`machine_config_path`) under the user's own file; a setting in the user's file wins.
"""

from __future__ import annotations

import logging
import os
import sys
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

log = logging.getLogger(__name__)

CONFIG_VERSION = 2
APP_NAME = "packbench"
MACHINE_CONFIG_ENV = "PACKBENCH_MACHINE_CONFIG"


def machine_config_path() -> Path:
    """The machine-wide settings file (PACKBENCH_MACHINE_CONFIG overrides the place)."""
    named = os.environ.get(MACHINE_CONFIG_ENV, "").strip()
    if named:
        return Path(named)
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "Packbench" / "station.toml"
    if sys.platform == "darwin":
        return Path("/Library/Application Support/Packbench/station.toml")
    return Path("/etc/packbench/station.toml")


class ConfigError(Exception):
    """The config file cannot be read or has a value that cannot be used."""


@dataclass(frozen=True, slots=True)
class StationPaths:
    """Where this station keeps its local state (all under --data-dir when given)."""

    config_file: Path
    database: Path
    log_dir: Path
    labels_dir: Path
    documents_dir: Path

    @classmethod
    def for_data_dir(cls, data_dir: Path | None) -> StationPaths:
        """Paths under one directory, or the platform's standard directories."""
        if data_dir is not None:
            return cls(
                config_file=data_dir / "config.toml",
                database=data_dir / "station.sqlite3",
                log_dir=data_dir / "logs",
                labels_dir=data_dir / "labels",
                documents_dir=data_dir / "documents",
            )
        config = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
        data = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
        return cls(
            config_file=config / "config.toml",
            database=data / "station.sqlite3",
            log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
            labels_dir=data / "labels",
            documents_dir=data / "documents",
        )


@dataclass(frozen=True, slots=True)
class WedgeSettings:
    """How keyboard-wedge scanners are told apart from typing."""

    prefix: str = ""
    suffix: str = "CR"  # CR | LF | CRLF | TAB
    max_inter_key_ms: int = 30
    min_length: int = 4


@dataclass(frozen=True, slots=True)
class StationSettings:
    """Everything a station is configured with, besides secrets."""

    version: int = CONFIG_VERSION
    station_name: str = ""
    server_url: str = ""
    scanner: str = "wedge"
    scale: str = "manual"
    label_printer: str = ""
    document_printer: str = ""
    require_pin: bool = False
    allow_manual_weight: bool = False
    # A supervisor's PIN for overrides, on top of the badge. Without it an override carries no
    # proof: the service refuses it unless PACKBENCH_ALLOW_UNVERIFIED_OVERRIDES=1 (see
    # docs/security.md).
    override_requires_pin: bool = True
    sounds: bool = True
    # An order whose items are verified, boxes weighed and labels printed finishes by itself
    # (no PB:CLOSE scan); scanning the next order finishes one that is complete.
    auto_complete: bool = True
    # Packing slips on the document printer: "channel" (the order's channel decides, set on
    # the service), "never" (not at this bench), or the bench-wide overrides "every_parcel"
    # and "cross_border" (ship-to country other than site_country).
    packing_slips: str = "channel"
    site_country: str = ""
    box_content_labels: bool = False  # a contents label for each box of a multi-box order
    blanking_ms: int = 300
    double_scan_ms: int = 1500
    weight_tolerance_grams: int = 50
    weight_tolerance_percent: float = 5.0
    # Per carrier (code as on the order): {"dhl": {"grams": 20, "percent": 2.0}}; see
    # app/weight_settings.py.
    carrier_weight_tolerance: dict[str, Any] = field(default_factory=dict)
    language: str = "en"
    wedge: WedgeSettings = field(default_factory=WedgeSettings)

    def to_toml(self) -> dict[str, Any]:
        """A TOML-ready dict (nested tables for nested settings)."""
        return asdict(self)

    @classmethod
    def from_toml(cls, data: dict[str, Any]) -> StationSettings:
        """Build settings from a migrated TOML dict; unknown keys are logged and ignored."""
        known = {f.name for f in fields(cls)}
        for key in sorted(set(data) - known):
            log.warning("config: ignoring unknown setting %r", key)
        values = {k: v for k, v in data.items() if k in known}
        wedge = values.pop("wedge", {}) or {}
        wedge_known = {f.name for f in fields(WedgeSettings)}
        try:
            return cls(
                wedge=WedgeSettings(**{k: v for k, v in wedge.items() if k in wedge_known}),
                **values,
            )
        except TypeError as exc:
            raise ConfigError(f"config file has a setting of the wrong kind: {exc}") from exc


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # v1 kept the scanner's wedge timing flat; v2 groups wedge settings in their own table.
    wedge = {"max_inter_key_ms": data.pop("wedge_inter_key_ms", 30)}
    if "scanner_suffix" in data:
        wedge["suffix"] = data.pop("scanner_suffix")
    data["wedge"] = {**wedge, **data.get("wedge", {})}
    return data


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a config dict from its version up to CONFIG_VERSION one step at a time."""
    version = int(data.get("version", 1))
    if version > CONFIG_VERSION:
        raise ConfigError(
            f"The config file is version {version}, newer than this Packbench "
            f"(understands up to {CONFIG_VERSION}). Update Packbench on this station."
        )
    while version < CONFIG_VERSION:
        data = MIGRATIONS[version](dict(data))
        version += 1
        data["version"] = version
    return data


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read the config file {path}: {exc}") from exc


def _overlay(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`; nested tables (wedge) key by key."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _machine_layer(machine: Path | None) -> dict[str, Any]:
    """The machine-wide settings, migrated ({} when there is no file)."""
    path = machine_config_path() if machine is None else machine
    if not path.exists():
        return {}
    raw = _read_toml(path)
    raw.setdefault("version", CONFIG_VERSION)  # a hand-written machine file may omit it
    try:
        return migrate(raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def load_settings(path: Path, machine: Path | None = None) -> StationSettings:
    """Defaults, then the machine-wide file, then the user's file (each setting from the last
    layer that has it); an old user file is migrated and re-saved."""
    base = _machine_layer(machine)
    if not path.exists():
        return StationSettings.from_toml(base) if base else StationSettings()
    raw = _read_toml(path)
    old_version = int(raw.get("version", 1))
    user = migrate(raw)
    settings = StationSettings.from_toml(_overlay(base, user))
    if old_version != CONFIG_VERSION:
        backup = path.with_suffix(f".v{old_version}.bak")
        path.replace(backup)
        _write(path, user)
        log.info("config: migrated %s from v%d (backup %s)", path, old_version, backup)
    return settings


def save_settings(path: Path, settings: StationSettings, machine: Path | None = None) -> None:
    """Write the settings that differ from the machine-wide layer (so a later change there
    still reaches this user), atomically: a crash never leaves a half-written config."""
    base = StationSettings.from_toml(_machine_layer(machine)).to_toml()
    mine = settings.to_toml()
    own: dict[str, Any] = {"version": CONFIG_VERSION}
    for key, value in mine.items():
        if isinstance(value, dict):
            differ = {k: v for k, v in value.items() if base[key].get(k) != v}
            if differ:
                own[key] = differ
        elif key != "version" and base.get(key) != value:
            own[key] = value
    _write(path, own)


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        tomli_w.dump(data, fh)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
