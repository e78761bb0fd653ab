"""The ``ivr`` command."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from ivr import __version__
from ivr.app.asterisk_cli import register as register_asterisk
from ivr.app.bootstrap import bootstrap, load_hotline
from ivr.app.config import Settings
from ivr.audio.build import prompts_root
from ivr.audio.cli import register as register_prompts
from ivr.audio.problems import audio_problems
from ivr.errors import FlowErrors, IvrError
from ivr.flow import diagram
from ivr.flow.model import Flow
from ivr.flow.state import CallStart
from ivr.phone import terminal as console
from ivr.store import schema
from ivr.store.db import connect, redact
from ivr.store.seed import seed_demo


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except IvrError as exc:
        print(f"ivr {args.command}: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    if getattr(args, "flow", None):
        settings = replace(settings, flow_path=Path(args.flow))
    try:
        code: int = args.run(args, settings)
    except FlowErrors as exc:
        _print_problems(exc)
        _hint_missing_flow(args, settings)
        return 1
    except IvrError as exc:
        print(f"ivr {args.command}: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        where = redact(settings.database_url)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"ivr {args.command}: database {where}: {reason}", file=sys.stderr)
        return 1
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ivr", description="Digital-wallet hotline controller.")
    parser.add_argument("--version", action="version", version=f"ivr {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser(
        "init", help="write the default hotline (callflows.yaml and its prompts) into a folder"
    )
    init.add_argument("folder", nargs="?", default=".", help="where (default: here)")
    init.set_defaults(run=_init)

    validate = commands.add_parser("validate", help="check a flow file and its prompts")
    default_flow = "flow file (default: $IVR_FLOW or callflows.yaml)"
    validate.add_argument("flow", nargs="?", help=default_flow)
    validate.set_defaults(run=_validate)

    graph = commands.add_parser("graph", help="print a picture of the call tree")
    graph.add_argument("flow", nargs="?", help=default_flow)
    graph.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    graph.set_defaults(run=_graph)

    db = commands.add_parser("db", help="the database schema (IVR_DATABASE_URL)")
    db.add_argument("action", choices=("upgrade", "status"))
    db.set_defaults(run=_db)

    seed = commands.add_parser("seed", help="load the demo wallet accounts")
    seed.add_argument("--demo", action="store_true", required=True, help="the demo accounts")
    seed.add_argument("--reset", action="store_true", help="put them back as documented")
    seed.set_defaults(run=_seed)

    register_prompts(commands)
    register_asterisk(commands)

    fastagi = commands.add_parser("fastagi", help="serve the hotline to Asterisk over FastAGI")
    fastagi.add_argument("--listen", default="127.0.0.1:4573", help="HOST:PORT to listen on")
    fastagi.set_defaults(run=_fastagi)

    serve = commands.add_parser(
        "serve", help="the agent console, JSON API, FastAGI and dispatcher in one process"
    )
    serve.add_argument("--host", default="127.0.0.1", help="web address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="web port (default 8080; 0: any)")
    serve.add_argument("--fastagi", default="127.0.0.1:4573", help="FastAGI HOST:PORT to listen on")
    serve.add_argument("--no-fastagi", action="store_true", help="no FastAGI server (web only)")
    serve.add_argument(
        "--no-dispatcher", action="store_true", help="do not hand callers to agents from here"
    )
    serve.set_defaults(run=_serve)

    call = commands.add_parser("call", help="call the hotline from this terminal")
    call.add_argument("--flow", help=default_flow)
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
    return parser


def _init(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.app.starter import write_default_hotline

    for path in write_default_hotline(Path(args.folder)):
        print(f"wrote {path}")
    print("edit them, then: ivr validate; ivr db upgrade; ivr seed --demo; ivr serve")
    return 0


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.flow) if args.flow else settings.flow_path
    flow = load_hotline(path)
    languages = ", ".join(flow.languages)
    print(
        f"{path}: OK: {len(flow.nodes)} nodes, {len(flow.catalog.texts)} prompts ({languages}), "
        f"{len(flow.queues)} queues, {len(flow.actions)} use cases, start '{flow.start}'"
    )
    _warn_audio(flow)
    return 0


def _warn_audio(flow: Flow, shown: int = 5) -> None:
    """Prompt audio that is missing or stale: a warning (Twilio can speak text instead)."""
    problems = audio_problems(flow, prompts_root(flow))
    for line in problems[:shown]:
        print(f"warning: {line}", file=sys.stderr)
    if len(problems) > shown:
        print(
            f"warning: ... {len(problems)} prompt audio files missing or stale in all "
            "(run ivr prompts build)",
            file=sys.stderr,
        )


def _graph(args: argparse.Namespace, settings: Settings) -> int:
    flow = load_hotline(Path(args.flow) if args.flow else settings.flow_path)
    print(diagram.mermaid(flow) if args.format == "mermaid" else diagram.dot(flow), end="")
    return 0


def _db(args: argparse.Namespace, settings: Settings) -> int:
    database = connect(settings.database_url)
    where = redact(settings.database_url)
    if args.action == "upgrade":
        before, after = schema.upgrade(database)
        said = "already at" if before == after else f"upgraded from {before or 'empty'} to"
        print(f"{where}: {said} schema {after}")
        return 0
    current, head = schema.current_revision(database), schema.head_revision()
    print(f"{where}: schema {current or 'empty'}; this code needs {head}")
    return 0 if current == head else 1


def _seed(args: argparse.Namespace, settings: Settings) -> int:
    hotline = bootstrap(settings)
    report = seed_demo(
        hotline.sessions, hotline.clock.now(), pepper=hotline.pepper, reset=args.reset
    )
    print(
        f"demo accounts: {report.created} created, {report.reset} reset, "
        f"{report.unchanged} already there"
    )
    return 0


def _fastagi(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.phone.asterisk.fastagi import serve  # only this command needs the AGI driver

    host, port = host_port(args.listen)
    serve(bootstrap(settings, role="fastagi"), host, port)
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.app.runner import Running, serve  # only this command needs the web side

    if not 0 <= args.port < 65536:
        raise IvrError(f"--port {args.port} is not a port number (0 to 65535)")
    fastagi = None if args.no_fastagi else host_port(args.fastagi)

    def ready(running: Running) -> None:
        print(f"agent console: {_url('http', *running.web)}/")
        print(f"JSON API:      {_url('http', *running.web)}/api/ (docs/api.md)")
        if running.fastagi:
            print(f"FastAGI:       {_url('agi', *running.fastagi)}/hotline")
        for line in _demo_logins():
            print(line)
        print("Stop with Ctrl-C.", flush=True)

    hotline = bootstrap(settings, role="serve")
    serve(hotline, (args.host, args.port), fastagi, not args.no_dispatcher, ready)
    return 0


def _url(scheme: str, host: str, port: int) -> str:
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def _demo_logins() -> list[str]:
    """The demo agents' sign-ins (``ivr seed --demo`` creates them)."""
    from ivr.services.agents_demo import DEMO_AGENTS

    logins = ", ".join(f"{a.username} / {a.password} ({a.role})" for a in DEMO_AGENTS)
    return [f"demo sign-ins: {logins}"]


def host_port(text: str) -> tuple[str, int]:
    """``127.0.0.1:4573`` -> (host, port), or an IvrError saying what is expected."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise IvrError(f"'{text}' is not HOST:PORT (like 127.0.0.1:4573)")
    return host.strip("[]"), int(port)


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
    # Built before the call starts, so that its record times the call, not the start-up.
    hotline.engine, hotline.use_cases  # noqa: B018
    call = CallStart(
        call_id=f"console-{uuid.uuid4().hex[:12]}",
        ani=args.ani,
        language=args.lang,
        started_at=hotline.clock.now().timestamp(),
    )
    session = hotline.session(call, "console")
    if events is None:
        console.run_interactive(session, _read_keys, print)
    else:
        console.run_scripted(session, events, None if args.json else print)
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


if __name__ == "__main__":
    sys.exit(main())
