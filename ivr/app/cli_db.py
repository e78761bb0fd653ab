"""``ivr db`` and ``ivr seed``: the database's schema and the demo accounts."""

from __future__ import annotations

import argparse

from ivr.app.bootstrap import bootstrap
from ivr.app.cli_flow import Commands
from ivr.app.config import Settings
from ivr.store import schema
from ivr.store.db import connect, redact
from ivr.store.seed import seed_demo


def register(commands: Commands) -> None:
    """Add ``db`` and ``seed`` to the ``ivr`` command's subcommands."""
    db = commands.add_parser("db", help="the database schema (IVR_DATABASE_URL)")
    db.add_argument("action", choices=("upgrade", "status"))
    db.set_defaults(run=_db)

    seed = commands.add_parser("seed", help="load the demo wallet accounts")
    seed.add_argument("--demo", action="store_true", required=True, help="the demo accounts")
    seed.add_argument("--reset", action="store_true", help="put them back as documented")
    seed.set_defaults(run=_seed)


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
