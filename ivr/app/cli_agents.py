"""``ivr agents``: list and administer the contact centre's agents from a shell, by the
rules of ``ivr.services.agent_admin`` (the same as the supervisor's pages), audited with
the actor ``cli:<os user>``. A password is read from standard input (``--password-stdin``)
or generated and printed once; never taken as an argument (it would stay in the shell's
history and the process list). A refusal is one line on standard error: exit 2 for bad
input, 1 for anything else refused (taken, not found, the last supervisor)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from ivr.app.bootstrap import Components, bootstrap
from ivr.app.cli_flow import Commands
from ivr.app.config import Settings
from ivr.services import agent_admin, agent_fields
from ivr.services.agent_admin import ROLES, AdminRefused
from ivr.services.contact_agents import Agent

PIPED_WIDTH = 160


def register(commands: Commands) -> None:
    """Add ``agents`` (list, add, edit, disable, enable, reset-password)."""
    agents = commands.add_parser("agents", help="list and administer the agents")
    actions = agents.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="every agent, with state and role")
    add = actions.add_parser("add", help="a new agent (offline)")
    add.add_argument("username")
    _fields(add, required=True)
    _password_option(add)
    edit = actions.add_parser("edit", help="change an agent's name, role, skills, ...")
    edit.add_argument("agent", help="username or id")
    _fields(edit, required=False)
    for name, text in (("disable", "cannot sign in, offline now"), ("enable", "may sign in")):
        action = actions.add_parser(name, help=text)
        action.add_argument("agent", help="username or id")
    reset = actions.add_parser("reset-password", help="a new password (sessions end)")
    reset.add_argument("agent", help="username or id")
    _password_option(reset)
    agents.set_defaults(run=_run)


def _fields(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--name", required=required)
    parser.add_argument("--role", choices=ROLES, default="agent" if required else None)
    parser.add_argument("--skills", required=required, help="comma-separated queue skills")
    parser.add_argument("--languages", required=required, help="comma-separated, e.g. en,zh")
    parser.add_argument("--endpoint", required=required, help="the PJSIP endpoint")


def _password_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (else one is generated and printed once)",
    )


def _run(args: argparse.Namespace, settings: Settings) -> int:
    hotline = bootstrap(settings)
    try:
        return _act(hotline, args)
    except AdminRefused as refused:
        print(f"ivr agents {args.action}: {refused.message}", file=sys.stderr)
        return 2 if refused.status == 400 else 1


def _act(hotline: Components, args: argparse.Namespace) -> int:
    ctx = hotline.contact_center.context
    actor = agent_admin.Actor(f"cli:{getpass.getuser()}")
    if args.action == "list":
        _table(hotline.contact_center.agents_view())
        return 0
    choices = agent_admin.choices(hotline.flow)
    if args.action == "add":
        values = {"username": args.username, **_given(args), "password": _stdin(args)}
        agent, generated = agent_admin.create(ctx, choices, actor, values)
        print(f"agent {agent.username} created (id {agent.id}, offline)")
        _say_generated(generated)
        return 0
    agent = agent_admin.find(ctx, args.agent)
    if args.action == "edit":
        changed = agent_admin.edit(ctx, choices, actor, agent.id, _given(args))
        print(f"agent {changed.username} saved")
    elif args.action in ("disable", "enable"):
        records = hotline.sign_in_records
        agent_admin.set_disabled(ctx, records, actor, agent.id, args.action == "disable")
        print(f"agent {agent.username} {args.action}d")
    else:  # reset-password
        records = hotline.sign_in_records
        _, generated = agent_admin.reset_password(ctx, records, actor, agent.id, _stdin(args))
        print(f"agent {agent.username}: new password set; their sessions ended")
        _say_generated(generated)
    return 0


def _given(args: argparse.Namespace) -> dict[str, Any]:
    names = ("name", "role", "skills", "languages", "endpoint")
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


def _stdin(args: argparse.Namespace) -> str | None:
    if not args.password_stdin:
        return None
    # one line, bounded: a longer one is refused by the password's own check
    password = sys.stdin.readline(agent_fields.MAX_PASSWORD + 3).rstrip("\r\n")
    if not password:
        raise AdminRefused(400, "no password on standard input", "password")
    return password


def _say_generated(password: str | None) -> None:
    if password is not None:
        print(f"password (shown once): {password}")


def _table(agents: list[Agent]) -> None:
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else PIPED_WIDTH)
    table = Table(title="Agents")
    for column in ("id", "username", "name", "role", "state", "skills", "languages"):
        table.add_column(column)
    table.add_column("endpoint")
    table.add_column("enabled")
    for a in agents:
        state = a.state if a.pause_reason is None else f"{a.state} ({a.pause_reason})"
        table.add_row(
            str(a.id), a.username, a.name, a.role, state, ",".join(sorted(a.skills)),
            ",".join(sorted(a.languages)), a.endpoint, "no" if a.disabled else "yes",
        )  # fmt: skip
    console.print(table)
