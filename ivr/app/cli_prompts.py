"""``ivr prompts build``: the command and its summary line (its progress bar:
``ivr.audio.progress``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ivr.app.bootstrap import load_hotline
from ivr.app.cli_flow import FLOW_HELP, Commands
from ivr.app.config import Settings
from ivr.audio.progress import ProgressBar


def register(commands: Commands) -> None:
    """Add ``prompts`` to the ``ivr`` command's subcommands."""
    parser = commands.add_parser("prompts", help="render the prompt catalog to audio")
    parser.add_argument("action", choices=("build",), help="build: render what changed")
    parser.add_argument("--flow", help=FLOW_HELP)
    parser.add_argument("--root", help="audio folder (default: prompts/ beside the flow file)")
    parser.add_argument("--lang", help="languages, comma-separated (default: the flow's)")
    parser.add_argument("--force", action="store_true", help="render every file again")
    parser.add_argument("--jobs", type=int, default=2, help="files rendered at once (default: 2)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """``ivr prompts build``: 0 when built, 2 for a bad ``--lang``; errors raise IvrError."""
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
