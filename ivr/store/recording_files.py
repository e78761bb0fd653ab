"""The recordings folder (``IVR_RECORDINGS_DIR``, by default ``recordings/`` beside the
SQLite file): where drivers write callers' recordings and where their retention deletes
them. A recording's location is a plain file name in it; anything else (a URL, a path)
is not a file of this folder and is never touched."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from ivr.services.recording_upkeep import RecordingFiles

logger = logging.getLogger(__name__)

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}")


class RecordingFolder(RecordingFiles):
    def __init__(self, path: Path) -> None:
        self.path = path

    def remove(self, location: str) -> bool:
        if not _NAME.fullmatch(location):
            return True  # a URL: nothing of ours to delete
        try:
            (self.path / location).unlink(missing_ok=True)
        except OSError as exc:
            logger.warning("recordings: cannot delete %s (%s)", location, exc.strerror)
            return False
        return True
