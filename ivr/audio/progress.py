"""A progress bar on one terminal line (``ivr prompts build``)."""

from __future__ import annotations

import shutil
from typing import TextIO


class ProgressBar:
    """``[#####.....] 12/84 en/main_menu`` on one terminal line, redrawn in place."""

    def __init__(self, stream: TextIO, width: int = 20) -> None:
        self.stream = stream
        self.width = width
        self._shown = 0

    def __call__(self, done: int, total: int, label: str) -> None:
        filled = self.width * done // total if total else self.width
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} {label}"
        line = line[: shutil.get_terminal_size().columns - 1]
        self.stream.write("\r" + line.ljust(self._shown))
        self.stream.flush()
        self._shown = len(line)

    def close(self) -> None:
        """Wipe the bar so the summary line starts on a clean line."""
        if self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self.stream.flush()
            self._shown = 0
