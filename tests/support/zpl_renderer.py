"""The independent ZPL renderer for the label tests: zpl-renderer-js (zebrash in WASM) on node.

Set-up (once per clone, offline afterwards): `npm ci` in tests/support/zpl_render, which the
`zpl_renderer` fixture runs when node_modules is missing. Without node the tests skip.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from PIL import Image

HERE = Path(__file__).parent / "zpl_render"
INSTALL_COMMAND = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]


class ZplRenderer:
    """Renders many ZPL labels of one size and resolution in a single node process."""

    def __init__(self, node: str, workdir: Path) -> None:
        self.node = node
        self.workdir = workdir

    def render(
        self, labels: dict[str, bytes], width_mm: float, height_mm: float, dpi: int
    ) -> dict[str, Image.Image]:
        """Each named ZPL label as the renderer's PNG, as a grayscale image."""
        dpmm = {203: 8, 300: 12, 600: 24}[dpi]
        args: list[str] = []
        for name, zpl in labels.items():
            source = self.workdir / f"{name}.{dpi}.zpl"
            source.write_bytes(zpl)
            args += [str(source), str(source.with_suffix(".png"))]
        subprocess.run(
            [self.node, str(HERE / "render.cjs"), str(width_mm), str(height_mm), str(dpmm), *args],
            check=True,
            capture_output=True,
            timeout=300,
        )
        images = {}
        for name in labels:
            with Image.open(self.workdir / f"{name}.{dpi}.png") as image:
                images[name] = image.convert("L")
        return images


def install() -> str | None:
    """Install zpl-renderer-js if needed; the node binary, or None (with why) when missing."""
    node = shutil.which("node")
    if node is None:
        return None
    if not (HERE / "node_modules" / "zpl-renderer-js").exists():
        npm = shutil.which("npm")
        if npm is None:
            return None
        subprocess.run([npm, *INSTALL_COMMAND[1:]], cwd=HERE, check=True, timeout=600)
    return node
