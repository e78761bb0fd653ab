"""The ``ivr`` command: its parser, and each command's errors turned into messages and exit
statuses. The commands live by concept: ``cli_flow`` (init, validate, graph), ``cli_db``
(db, seed), ``cli_prompts`` (prompts), ``cli_serve`` (fastagi, serve), ``cli_call``
(call); Asterisk's own (asterisk-config, sandbox) in ``ivr.app.asterisk_cli``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from ivr import __version__
from ivr.app import cli_agents, cli_call, cli_db, cli_flow, cli_prompts, cli_report, cli_serve, logs
from ivr.app.asterisk_cli import register as register_asterisk
from ivr.app.config import Settings
from ivr.errors import FlowErrors, IvrError
from ivr.store.db import redact


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except IvrError as exc:
        print(f"ivr {args.command}: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level, settings.log_format)
    if getattr(args, "flow", None):
        settings = replace(settings, flow_path=Path(args.flow))
    try:
        code: int = args.run(args, settings)
    except FlowErrors as exc:
        _print_problems(exc)
        _hint_missing_flow(args, settings)
        return 1
    except SQLAlchemyError as exc:  # first: a store error of ours may be one too
        where = redact(settings.database_url)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"ivr {args.command}: database {where}: {reason}", file=sys.stderr)
        return 1
    except IvrError as exc:
        print(f"ivr {args.command}: {exc}", file=sys.stderr)
        return 1
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ivr", description="Digital-wallet hotline controller.")
    parser.add_argument("--version", action="version", version=f"ivr {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cli_flow.register(commands)
    cli_db.register(commands)
    cli_agents.register(commands)
    cli_report.register(commands)
    cli_prompts.register(commands)
    register_asterisk(commands)
    cli_serve.register(commands)
    cli_call.register(commands)
    return parser


def _print_problems(exc: FlowErrors) -> None:
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    count = len(exc.problems)
    print(f"{count} problem{'s' if count != 1 else ''} found", file=sys.stderr)


def _hint_missing_flow(args: argparse.Namespace, settings: Settings) -> None:
    """After 'cannot read file' for a flow that is not there: how to name or get one."""
    path = Path(args.flow) if getattr(args, "flow", None) else settings.flow_path
    if not path.exists():
        print(
            f"hint: there is no flow file {path}; name yours with IVR_FLOW=PATH (or as the "
            "command's argument), or run 'ivr init' to write the default hotline here",
            file=sys.stderr,
        )


if __name__ == "__main__":
    sys.exit(main())
