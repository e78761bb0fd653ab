"""``ivr call``: call the hotline from this terminal (keys typed, or scripted)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime

from ivr.app.bootstrap import bootstrap
from ivr.app.cli_flow import FLOW_HELP, Commands
from ivr.app.config import Settings
from ivr.app.demo_database import prepare_embedded
from ivr.flow.state import CallStart
from ivr.phone import terminal as console
from ivr.services.call_context import handling


def register(commands: Commands) -> None:
    """Add ``call`` to the ``ivr`` command's subcommands."""
    call = commands.add_parser("call", help="call the hotline from this terminal")
    call.add_argument("--flow", help=FLOW_HELP)
    call.add_argument(
        "--keys", help='keys to press, e.g. "1 2 10000001# 246810" (t: silence, h: hang up)'
    )
    call.add_argument("--ani", default="", help="the caller's number, e.g. +8613800138001")
    call.add_argument("--lang", help="the caller's language if known already (skips the choice)")
    call.add_argument(
        "--at", help="pretend the call starts at this time (ISO 8601; UTC if no offset)"
    )
    call.add_argument("--json", action="store_true", help="print the whole transcript as JSON")
    call.set_defaults(run=_call)


def _call(args: argparse.Namespace, settings: Settings) -> int:
    try:
        events = console.parse_keys(args.keys) if args.keys is not None else None
        start = _start_time(args.at)
    except (console.BadKeys, ValueError) as exc:
        print(f"ivr call: {exc}", file=sys.stderr)
        return 2
    # --at starts the whole hotline's clock there: the call, its use cases, the contact
    # center and the call record all agree on the time.
    hotline = bootstrap(replace(settings, clock_start=start) if start else settings)
    if args.lang and args.lang not in hotline.flow.languages:
        choices = ", ".join(hotline.flow.languages)
        print(f"ivr call: --lang must be one of {choices}", file=sys.stderr)
        return 2
    # A fresh checkout's SQLite database is made ready here, as `make call` does; a
    # PostgreSQL one is left alone (its missing schema is an error naming `ivr db upgrade`).
    prepared = prepare_embedded(hotline)
    if prepared is not None and prepared.changed:
        print(f"ivr call: {prepared.said()}", file=sys.stderr)
    # Built before the call starts, so that its record times the call, not the start-up.
    hotline.engine, hotline.use_cases  # noqa: B018
    call = CallStart(
        call_id=f"console-{uuid.uuid4().hex[:12]}",
        ani=args.ani,
        language=args.lang,
        started_at=hotline.clock.now().timestamp(),
    )
    session = hotline.session(call, "console")
    with handling(call.call_id):  # the call's log lines name it (IVR_LOG_FORMAT=json)
        if events is None:
            console.run_interactive(session, _read_keys, print, hotline.recordings_dir)
        else:
            write = None if args.json else print
            console.run_scripted(session, events, write, hotline.recordings_dir)
    if args.json:
        print(json.dumps(session.summary(), ensure_ascii=False, indent=2))
    return 0


def _read_keys(prompt: str, secure: bool) -> str:
    """A line of keys from the terminal; a PIN is not echoed."""
    if secure and sys.stdin.isatty():
        return getpass.getpass(prompt)
    return input(prompt)


def _start_time(text: str | None) -> datetime | None:
    """``--at``: an ISO 8601 time (without an offset: UTC), or None for the hotline's own."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        example = "2026-11-23T10:00+08:00"
        raise ValueError(f"--at '{text}' is not an ISO 8601 time like {example}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
