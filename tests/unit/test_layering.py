"""Only `app.views` imports PySide6.QtWidgets (checked here: import-linter cannot say it)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports_qtwidgets(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("PySide6.QtWidgets"):
            return True
        if isinstance(node, ast.Import) and any(
            a.name.startswith("PySide6.QtWidgets") for a in node.names
        ):
            return True
    return False


def test_only_views_import_qt_widgets() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for pkg in ("app", "sync", "service")
        for p in (ROOT / pkg).rglob("*.py")
        if "views" not in p.relative_to(ROOT).parts and _imports_qtwidgets(p)
    ]
    assert offenders == []


def test_the_check_itself_sees_a_widget_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("from PySide6.QtWidgets import QLabel\n")
    assert _imports_qtwidgets(sample)
