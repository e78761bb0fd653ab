"""What ``ivr validate`` can say about the prompt audio: files missing or stale."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ivr.audio import manifest
from ivr.audio.build import outdated
from ivr.audio.plan import VOICES, catalog_recordings
from ivr.flow.model import Flow
from ivr.flow.prompts import Catalog

HINT = "(run ivr prompts build)"


def audio_problems(flow: Flow, root: Path) -> list[str]:
    """One line per file the flow's catalog needs that is missing or stale, e.g.
    ``prompts/en/main_menu.wav: missing (run ivr prompts build)``."""
    return catalog_problems(flow.catalog, flow.languages, root)


def catalog_problems(catalog: Catalog, languages: Sequence[str], root: Path) -> list[str]:
    problems = []
    for language in languages:
        folder = root / language
        if language not in VOICES:
            known = ", ".join(VOICES)
            problems.append(f"{folder}: no voice for language '{language}' (voices: {known})")
            continue
        made = manifest.read(folder)
        for recording in catalog_recordings(catalog, language).values():
            where = folder / recording.path
            if not where.is_file():
                problems.append(f"{where}: missing {HINT}")
            elif outdated(recording, folder, made):
                problems.append(f"{where}: stale {HINT}")
    return problems
