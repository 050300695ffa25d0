"""Generate the station's feedback sounds into resources/sounds/ (stdlib only).

accept.wav: a short high two-tone chirp (~150 ms)
reject.wav: a low buzz (~400 ms), unmistakable from the accept chirp
done.wav:   a rising three-note phrase (~450 ms)

All are 16-bit mono 44.1 kHz PCM, with short fades so they never click.
Run: python scripts/make_sounds.py
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 44_100
OUT = Path(__file__).resolve().parents[1] / "resources" / "sounds"


def tone(freq: float, ms: int, volume: float = 0.5, harmonics: int = 0) -> list[float]:
    """A sine (plus odd harmonics for a buzz) with 5 ms fade in and out."""
    n = int(RATE * ms / 1000)
    fade = max(1, int(RATE * 0.005))
    samples = []
    for i in range(n):
        t = i / RATE
        value = math.sin(2 * math.pi * freq * t)
        for k in range(1, harmonics + 1):
            odd = 2 * k + 1
            value += math.sin(2 * math.pi * freq * odd * t) / odd
        if harmonics:
            value /= 1.4
        envelope = min(1.0, i / fade, (n - 1 - i) / fade)
        samples.append(volume * value * envelope)
    return samples


def silence(ms: int) -> list[float]:
    return [0.0] * int(RATE * ms / 1000)


def write(name: str, samples: list[float]) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    frames = b"".join(struct.pack("<h", int(max(-1.0, min(1.0, s)) * 32767)) for s in samples)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)
    return path


def main() -> None:
    sounds = {
        "accept.wav": tone(1320, 70) + silence(10) + tone(1760, 70),
        "reject.wav": tone(140, 400, volume=0.6, harmonics=4),
        "done.wav": tone(784, 140) + silence(15) + tone(988, 140) + silence(15) + tone(1319, 140),
    }
    for name, samples in sounds.items():
        path = write(name, samples)
        print(f"{path} {len(samples) * 1000 // RATE} ms")


if __name__ == "__main__":
    main()
