"""Render one recording to an 8 kHz mono 16-bit WAV with espeak-ng and sox.

Each run of one script (``plan.Recording.runs``) is spoken by ``espeak-ng`` to a temporary
22.05 kHz WAV (text on stdin, never on the command line); ``sox`` joins the runs, trims the
silence at both ends, peaks them at -3 dBFS, pads them with the kind's silence and writes
8 kHz mono 16-bit PCM next to the target, which is then renamed over it: a reader
(Asterisk, another build) sees the old file or the new one, never half of one.

``ensure_dynamic`` renders a free-text value (a merchant's name) at call time, once: the
file name is its digest, so the same text in the same voice is never rendered twice.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from ivr.audio.plan import (
    BITS,
    CHANNELS,
    PADDING,
    RATE,
    TRIM,
    VOICES,
    Recording,
    dynamic_recording,
)
from ivr.audio.steps import PlayFile
from ivr.errors import IvrError

log = logging.getLogger(__name__)

#: The programs rendering needs, and the Debian package that has each.
TOOLS = {"espeak-ng": "espeak-ng", "sox": "sox"}
#: A dynamic text longer than this is cut (a merchant's name, not a novel).
DYNAMIC_LIMIT = 200
_TIMEOUT = 60.0


class ToolMissing(IvrError):
    """espeak-ng or sox is not installed."""


class RenderFailed(IvrError):
    """espeak-ng or sox ran but did not make the file."""


def require_tools() -> None:
    """Raise ``ToolMissing`` naming each missing program and the package to install."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise ToolMissing("; ".join(_not_found(tool) for tool in missing))


def _not_found(tool: str) -> str:
    return f"{tool} not found: install {tool} (Debian package {TOOLS[tool]})"


def render(recording: Recording, folder: Path) -> Path:
    """Render ``recording`` to ``folder / recording.path`` (replacing it); return that path."""
    target = folder / recording.path
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with tempfile.TemporaryDirectory(prefix="ivr-tts-") as scratch:
        runs = []
        for index, (voice, text, pause) in enumerate(recording.runs()):
            raw = Path(scratch) / f"run{index}.wav"
            command = ["espeak-ng", "-v", voice.name, "-s", str(voice.speed)]
            command += ["-p", str(voice.pitch), "-b", "1", "-w", str(raw), "--stdin"]
            command += [] if pause else ["-z"]
            _run(command, recording, text)
            runs.append(str(raw))
        if not runs:
            raise RenderFailed(f"{recording.label}: nothing to say in {recording.text!r}")
        before, after = PADDING[recording.kind]
        command = ["sox", *runs, "-r", str(RATE), "-c", str(CHANNELS), "-b", str(BITS)]
        command += ["-e", "signed-integer", "-t", "wav", str(partial)]
        command += [*TRIM, "gain", "-n", "-3", "pad", f"{before}", f"{after}"]
        try:
            _run(command, recording)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    return target


def _run(command: Sequence[str], recording: Recording, text: str = "") -> None:
    tool = command[0]
    try:
        done = subprocess.run(
            command, input=text.encode("utf-8"), capture_output=True, timeout=_TIMEOUT, check=False
        )
    except FileNotFoundError:
        raise ToolMissing(_not_found(tool)) from None
    except subprocess.TimeoutExpired:
        raise RenderFailed(f"{recording.label}: {tool} took more than {_TIMEOUT:.0f}s") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = said[-1] if said else f"exit status {done.returncode}"
        raise RenderFailed(f"{recording.label}: {tool} failed: {reason}")


def ensure_dynamic(text: str, language: str, root: Path) -> PlayFile:
    """A playable file saying ``text`` in ``language``, rendered into
    ``root/<language>/_dynamic/<digest prefix>.wav`` unless it is there already."""
    if language not in VOICES:
        raise RenderFailed(f"no voice for language '{language}'")
    recording = dynamic_recording(text[:DYNAMIC_LIMIT], language)
    if not recording.text:
        raise RenderFailed("nothing to say in an empty text")
    if not (root / language / recording.path).is_file():
        require_tools()
        render(recording, root / language)
    return PlayFile(recording.label)


def dynamic_renderer(root: Path) -> Callable[[str, str], PlayFile | None]:
    """``ensure_dynamic`` for ``speech.steps(prompt, render_text=...)``: a failure is logged
    and gives None (the value is skipped) instead of breaking the call."""

    def render_text(text: str, language: str) -> PlayFile | None:
        try:
            return ensure_dynamic(text, language, root)
        except (IvrError, OSError) as exc:
            log.warning("cannot render a value in %s: %s", language, exc)
            return None

    return render_text
