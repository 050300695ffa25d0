"""Machine-wide station settings (/etc/packbench/station.toml) under the user's own file."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from app.config import (
    MACHINE_CONFIG_ENV,
    ConfigError,
    StationSettings,
    load_settings,
    machine_config_path,
    save_settings,
)

MACHINE = """\
version = 2
server_url = "https://oms.example.com"
station_name = "bench-07"
scanner = "serial:///dev/ttyACM0?suffix=CR"
scale = "mtsics+serial:///dev/ttyUSB0"
label_printer = "zpl+tcp://10.0.0.5:9100"

[wedge]
max_inter_key_ms = 40
min_length = 6
"""


@pytest.fixture
def machine(tmp_path: Path) -> Path:
    path = tmp_path / "etc" / "station.toml"
    path.parent.mkdir()
    path.write_text(MACHINE)
    return path


def test_machine_file_alone_configures_the_station(tmp_path: Path, machine: Path) -> None:
    settings = load_settings(tmp_path / "user" / "config.toml", machine=machine)
    assert settings.server_url == "https://oms.example.com"
    assert settings.station_name == "bench-07"
    assert settings.scale == "mtsics+serial:///dev/ttyUSB0"
    assert settings.wedge.max_inter_key_ms == 40 and settings.wedge.min_length == 6
    assert settings.wedge.suffix == "CR"  # the default: neither file sets it


def test_user_file_wins_setting_by_setting(tmp_path: Path, machine: Path) -> None:
    user = tmp_path / "config.toml"
    user.write_text('version = 2\nscale = "sim://"\n[wedge]\nmin_length = 8\n')
    settings = load_settings(user, machine=machine)
    assert settings.scale == "sim://"  # the user's
    assert settings.label_printer == "zpl+tcp://10.0.0.5:9100"  # the machine's
    assert settings.wedge.min_length == 8 and settings.wedge.max_inter_key_ms == 40


def test_saving_keeps_only_what_differs_from_the_machine_file(
    tmp_path: Path, machine: Path
) -> None:
    user = tmp_path / "config.toml"
    settings = load_settings(user, machine=machine)
    save_settings(user, dataclasses.replace(settings, scanner="wedge"), machine=machine)
    saved = tomllib.loads(user.read_text())
    assert saved == {"version": 2, "scanner": "wedge"}
    # A later change on the machine still reaches this user for what the user did not set.
    machine.write_text(MACHINE.replace("10.0.0.5", "10.0.0.6"))
    again = load_settings(user, machine=machine)
    assert again.label_printer == "zpl+tcp://10.0.0.6:9100"
    assert again.scanner == "wedge"


def test_without_a_machine_file_nothing_changes(tmp_path: Path) -> None:
    user = tmp_path / "config.toml"
    absent = tmp_path / "none.toml"
    assert load_settings(user, machine=absent) == StationSettings()
    save_settings(user, StationSettings(server_url="https://a.example"), machine=absent)
    assert load_settings(user, machine=absent).server_url == "https://a.example"


def test_a_broken_machine_file_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "station.toml"
    broken.write_text("server_url = \n")
    with pytest.raises(ConfigError, match=str(broken)):
        load_settings(tmp_path / "config.toml", machine=broken)
    broken.write_text("version = 99\n")
    with pytest.raises(ConfigError, match=r"station\.toml: The config file is version 99"):
        load_settings(tmp_path / "config.toml", machine=broken)


def test_machine_config_path_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MACHINE_CONFIG_ENV, str(tmp_path / "x.toml"))
    assert machine_config_path() == tmp_path / "x.toml"
    monkeypatch.delenv(MACHINE_CONFIG_ENV)
    assert machine_config_path() == Path("/etc/packbench/station.toml")
