"""The operator's kit's files (compose.yaml, deploy/), read as the tests need them."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

from ivr.app.cli import _parser

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKER = ROOT / "deploy" / "docker"
SYSTEMD = ROOT / "deploy" / "systemd"
_DEFAULTED = re.compile(r"\$\{([A-Z_]+):-([^}]*)\}")


def parse_ivr(args: list[str]) -> argparse.Namespace:
    """``ivr ARGS`` parsed by the real ``ivr`` command's parser (SystemExit when refused)."""
    return _parser().parse_args(args)


def subcommand_default(command: str, option: str) -> object:
    """The default of ``ivr COMMAND``'s ``--option``."""
    parser = _parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sub = commands.choices[command]
    return next(a.default for a in sub._actions if option in a.option_strings)


def shell_commands(script: Path) -> list[list[str]]:
    """The script's ``ivr ...`` commands (continuation lines joined), each with
    ``${NAME:-default}`` read as its default and quotes removed."""
    text = script.read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        words = line.strip()
        words = words.removeprefix("exec ")
        if not words.startswith("ivr "):
            continue
        words = words.split(">")[0]
        out.append(shlex.split(_DEFAULTED.sub(r"\2", words))[1:])
    return out
