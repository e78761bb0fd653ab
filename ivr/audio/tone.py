"""Hold music without a music package: a slow, soft chime, as an 8 kHz mono 16-bit WAV."""

from __future__ import annotations

import io
import math
import struct
import wave

RATE = 8000
#: (frequency in Hz, seconds): a C major arpeggio, then a rest.
NOTES = ((523.25, 0.6), (659.25, 0.6), (783.99, 0.6), (1046.5, 0.9), (0.0, 1.3))


#: The controller's hold segments (``moh/hold-1``, ``moh/hold-2``): 3 seconds each, the
#: arpeggio up then down, so that one after the other they loop gently.
SEGMENTS = (
    ((523.25, 0.5), (659.25, 0.5), (783.99, 0.5), (1046.5, 0.8), (0.0, 0.7)),
    ((1046.5, 0.5), (783.99, 0.5), (659.25, 0.5), (523.25, 0.8), (0.0, 0.7)),
)


#: The agent console's ringing alert: two short double beeps (a phone's ring, softly).
RING = ((880.0, 0.18), (0.0, 0.08), (880.0, 0.18), (0.0, 0.5)) * 2


def ring_tone() -> bytes:
    """The ringing alert's WAV bytes (about 1.9 s; the console loops it while ringing)."""
    return _wav(RING)


def hold_music(repeats: int = 3) -> bytes:
    """The WAV file's bytes (app_queue's music on hold)."""
    return _wav(NOTES * repeats)


def hold_segments() -> dict[str, bytes]:
    """``hold-1.wav``, ``hold-2.wav``: what the controller plays between announcements."""
    return {f"hold-{n}.wav": _wav(notes) for n, notes in enumerate(SEGMENTS, 1)}


def _wav(notes: tuple[tuple[float, float], ...]) -> bytes:
    samples: list[int] = []
    for frequency, seconds in notes:
        samples.extend(_note(frequency, seconds))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return buffer.getvalue()


def _note(frequency: float, seconds: float) -> list[int]:
    count = int(RATE * seconds)
    if frequency == 0.0:
        return [0] * count
    # A quick attack and an exponential decay, at a quarter of full scale.
    return [
        int(
            8000
            * math.exp(-3.0 * i / count)
            * min(1.0, i / 80)
            * math.sin(2 * math.pi * frequency * i / RATE)
        )
        for i in range(count)
    ]
