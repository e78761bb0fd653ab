"""``prompts/<lang>/.manifest.json``: the digest each rendered file was made from.

``{"format": 1, "files": {"main_menu.wav": "<sha256>", ...}}``. A file whose digest differs
from its recording's current one (``ivr.audio.plan``) is stale. A missing or unreadable
manifest is an empty one: everything is rendered again, nothing is lost.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

NAME = ".manifest.json"
FORMAT = 1


def read(folder: Path) -> dict[str, str]:
    """The manifest of one language folder, ``{}`` when there is none (or it is broken)."""
    try:
        data = json.loads((folder / NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) and data.get("format") == FORMAT else None
    if not isinstance(files, dict):
        return {}
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)}


def write(folder: Path, files: Mapping[str, str]) -> None:
    """Replace the manifest in one step (a crash leaves the old one or the new one)."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{NAME}.{os.getpid()}.tmp"
    body = {"format": FORMAT, "files": dict(sorted(files.items()))}
    partial.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, folder / NAME)
