"""Draw the Packbench icon (a parcel with a check mark) as PNG, ICO and ICNS with Pillow.

Run once after changing the drawing; the outputs are committed in resources/icons so a build
needs no image tools: `python packaging/make_icons.py`.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "resources" / "icons"
BROWN, TAPE, GREEN, WHITE = "#c8893e", "#e9c28a", "#2e9e4f", "#ffffff"


def draw(size: int = 1024) -> Image.Image:
    """The icon at `size` pixels square."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    s = size / 256
    d.rounded_rectangle([28 * s, 60 * s, 228 * s, 220 * s], radius=14 * s, fill=BROWN)
    d.rectangle([112 * s, 60 * s, 144 * s, 220 * s], fill=TAPE)
    d.rectangle([28 * s, 60 * s, 228 * s, 84 * s], fill="#b07430")
    d.ellipse([140 * s, 128 * s, 244 * s, 232 * s], fill=GREEN, outline=WHITE, width=int(6 * s))
    d.line(
        [(164 * s, 182 * s), (186 * s, 204 * s), (222 * s, 158 * s)],
        fill=WHITE,
        width=int(14 * s),
        joint="curve",
    )
    return img


def main() -> None:
    """Write packbench.png (256), packbench.ico (16-256) and packbench.icns."""
    OUT.mkdir(parents=True, exist_ok=True)
    big = draw()
    big.resize((256, 256), Image.Resampling.LANCZOS).save(OUT / "packbench.png")
    big.save(OUT / "packbench.ico", sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    big.save(OUT / "packbench.icns")


if __name__ == "__main__":
    main()
