"""The service installs without the station: its code imports none of the `station` extra.

Each check runs in a fresh interpreter in which the station's packages cannot be imported
(an import hook refuses them, as if `pip install packbench` had left them out).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from app.main import STATION_MODULES

ROOT = Path(__file__).resolve().parents[2]

# Refuse the station's packages, then run the rest of the program given on the command line.
WITHOUT_STATION = """
import importlib.abc, sys
BLOCKED = set(sys.argv[1].split(","))
class NoStation(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, NoStation())
"""


def run_without_station(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    blocked = ",".join(STATION_MODULES)
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_STATION + code, blocked, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_station_extra_lists_every_station_only_distribution() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = " ".join(project["dependencies"]).lower()
    station = " ".join(project["optional-dependencies"]["station"]).lower()
    for distribution in STATION_MODULES.values():
        assert distribution in station
        assert distribution not in base, f"{distribution} is still a service dependency"


def test_every_service_module_imports_without_the_station_packages() -> None:
    done = run_without_station(
        "import importlib, pkgutil, service, sync.protocol\n"
        "names = [m.name for m in pkgutil.walk_packages(service.__path__, 'service.')\n"
        "         if not m.name.startswith('service.migrations')]  # Alembic loads those\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print(len(names), 'modules')\n"
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.split()[0]) > 50


def test_service_cli_runs_without_the_station_packages() -> None:
    done = run_without_station("from service.cli import main\nraise SystemExit(main(['--help']))\n")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "db" in done.stdout


def test_station_command_names_the_missing_extra_in_one_line() -> None:
    done = run_without_station("from app.main import main\nraise SystemExit(main(['--demo']))\n")
    assert done.returncode == 3
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("packbench: the packing station is not installed here (missing: ")
    assert "pyside6, pyserial, python-escpos" in lines[0]
    assert "pip install 'packbench[station]'" in lines[0]
