"""``ivr prompts build``: the command, its progress bar and its summary line."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import TextIO

from ivr.app.config import Settings


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``prompts`` to the ``ivr`` command's subcommands."""
    parser = commands.add_parser("prompts", help="render the prompt catalog to audio")
    parser.add_argument("action", choices=("build",), help="build: render what changed")
    parser.add_argument("--flow", help="flow file (default: $IVR_FLOW or callflows.yaml)")
    parser.add_argument("--root", help="audio folder (default: prompts/ beside the flow file)")
    parser.add_argument("--lang", help="languages, comma-separated (default: the flow's)")
    parser.add_argument("--force", action="store_true", help="render every file again")
    parser.add_argument("--jobs", type=int, default=2, help="files rendered at once (default: 2)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """``ivr prompts build``: 0 when built, 2 for a bad ``--lang``; errors raise IvrError."""
    from ivr.app.bootstrap import load_hotline
    from ivr.audio.build import build, prompts_root  # only this command needs them

    flow = load_hotline(settings.flow_path)
    languages = tuple(flow.languages)
    if args.lang:
        languages = tuple(part.strip() for part in args.lang.split(",") if part.strip())
        unknown = [language for language in languages if language not in flow.languages]
        if unknown or not languages:
            choices = ",".join(flow.languages)
            print(f"ivr prompts: --lang must be among {choices}", file=sys.stderr)
            return 2
    root = Path(args.root) if args.root else prompts_root(flow)
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    try:
        report = build(
            flow.catalog, languages, root, force=args.force, workers=max(1, args.jobs), progress=bar
        )
    finally:
        if bar is not None:
            bar.close()
    print(f"{root}: {report}")
    return 0


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
