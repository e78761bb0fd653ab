"""``ivr db`` and ``ivr seed``: the database's schema, the demo accounts, and demo calls
for the reports (``--calls N``)."""

from __future__ import annotations

import argparse
import sys
import time

from ivr.app.bootstrap import Components, bootstrap
from ivr.app.cli_flow import Commands
from ivr.app.config import Settings
from ivr.services.demo_calls import Callers, prefix
from ivr.store import schema
from ivr.store.db import connect, redact
from ivr.store.demo_calls import demo_calls_stored, store_demo_calls
from ivr.store.seed import seed_demo

#: The most demo calls one ``ivr seed --demo --calls`` makes.
MAX_DEMO_CALLS = 1_000_000


def register(commands: Commands) -> None:
    """Add ``db`` and ``seed`` to the ``ivr`` command's subcommands."""
    db = commands.add_parser("db", help="the database schema (IVR_DATABASE_URL)")
    db.add_argument("action", choices=("upgrade", "status"))
    db.set_defaults(run=_db)

    seed = commands.add_parser("seed", help="load the demo wallet accounts")
    seed.add_argument("--demo", action="store_true", required=True, help="the demo accounts")
    seed.add_argument("--reset", action="store_true", help="put them back as documented")
    seed.add_argument(
        "--calls",
        type=int,
        default=0,
        metavar="N",
        help="also simulate N calls over the month up to now, for the reports",
    )
    seed.add_argument(
        "--seed", type=int, default=1, help="the demo calls' random seed (another adds more)"
    )
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
    if args.calls:
        return _demo_calls(hotline, args.calls, args.seed)
    return 0


def _demo_calls(hotline: Components, count: int, seed: int) -> int:
    if not 0 < count <= MAX_DEMO_CALLS:
        print(f"ivr seed: --calls must be from 1 to {MAX_DEMO_CALLS}", file=sys.stderr)
        return 2
    there = demo_calls_stored(hotline.unit_of_work, prefix(seed))
    if there:
        print(f"demo calls: {there} of seed {seed} already there; add more with --seed {seed + 1}")
        return 0
    started = time.monotonic()
    callers = Callers(hotline.engine, seed, hotline.flow.timezone)
    calls = callers.calls(count, hotline.clock.now())
    store_demo_calls(hotline.unit_of_work, calls)
    queued = sum(1 for call in calls if call.queue is not None)
    print(
        f"demo calls: {len(calls)} added (seed {seed}, {queued} reached a queue) over the "
        f"30 days to now, in {time.monotonic() - started:.1f} s"
    )
    return 0
