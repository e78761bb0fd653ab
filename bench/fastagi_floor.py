"""The least CPU any Python asyncio FastAGI server must spend on one real hotline call,
measured part by part beside panoramisk's whole call (issue 15, target 1: ours <= 5x
panoramisk's server CPU per call).

The call is ``bench/pin_burst.py``'s (English, payment failure, account, PIN, the failed
payment heard, goodbye). On a PostgreSQL database created for the run (``pin_burst.database``,
one account per call) the parts are measured one after another in this run:

1. the PIN check: ``ivr.services.pins.pin_matches`` at the product's cost, CPU of one check
   (``time.thread_time``), best of ``--pins``, and at half that cost (for comparison);
2. the call's SQL (``bench/floor_sql.py``: its 12 statements in 5 transactions) for
   ``--sql-calls`` calls, ``--sql-concurrency`` at once on one event loop: with raw psycopg
   (``AsyncConnection``, one a caller, autocommit off, prepared statements), then through
   SQLAlchemy's ``AsyncEngine`` as the hotline makes it (``ivr.store.db.connect_for_loop``):
   this process's CPU per call (``time.process_time``; PostgreSQL's own is not counted, as
   it is in no server's figure); and, for comparison only, raw psycopg with each
   transaction pipelined (a call's 33 exchanges with the server, each ended by its
   ReadyForQuery, down to 16: what fewer round trips would save);
3. the line: ``bench/agi_peers.py``'s servers sending the call's command lines (recorded from
   ``ivr fastagi``) with no work, driven by ``bench/agi_callers.py`` at ``--concurrency``:
   panoramisk (the peer every figure is divided by) and a raw asyncio server; their CPU per
   call from ``/proc`` (``bench/fastagi_peer.drive``).

And ours, the real ``ivr fastagi`` under the same load (``--ours-calls``, 0: not run). The
floor is the sum of the least of each: PIN + raw psycopg + the raw line. Against 5x
panoramisk it says whether target 1's CPU ratio can be met at all with this work and this
PIN cost; the gaps between ours and each part say where ours spends above the floor.

    .venv/bin/python bench/fastagi_floor.py [--concurrency 50] [--sql-calls 1500]
        [--sql-concurrency 50] [--peer-calls 3000] [--ours-calls 600] [--pins 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import floor_sql
import pin_burst
from fastagi_peer import Load, drive, record
from figures import Figure, show
from peer_servers import NoPeer, peer_python, peer_server
from psycopg import AsyncConnection
from sqlalchemy.engine import make_url

from ivr.services import pins
from ivr.store.db import PoolSize, connect_for_loop

WARM = 100  # calls made on the SQL's connections before the measured ones


def pin_check(samples: int, n: int = pins.N) -> tuple[float, float]:
    """CPU seconds of one PIN check at cost ``n`` (the product's by default): best and
    median."""
    stored = pins.hash_pin(pin_burst.PIN, pin_burst.PEPPER.encode(), n=n)
    spent = []
    for _ in range(samples):
        started = time.thread_time()
        assert pins.pin_matches(pin_burst.PIN, stored, pin_burst.PEPPER.encode())
        spent.append(time.thread_time() - started)
    return min(spent), statistics.median(spent)


Caller = Callable[[int], Awaitable[None]]


async def _closed_loop(caller_of: Callable[[int], Caller], calls: range, lines: int) -> None:
    """``lines`` callers (``caller_of(i)``: line i's), each making its next call when its
    last one ended, until ``calls`` are made."""
    pending = iter(calls)

    async def line(i: int) -> None:
        make = caller_of(i)
        for n in pending:
            await make(n)

    await asyncio.gather(*(line(i) for i in range(lines)))


def _one_call(n: int, run: str) -> list[floor_sql.Transaction]:
    return floor_sql.call(f"{run}.{n}", str(pin_burst.FIRST_ACCOUNT + n), f"+1555{n:07d}")


async def _measured(caller_of: Callable[[int], Caller], calls: int, lines: int) -> float:
    await _closed_loop(caller_of, range(WARM), lines)
    started = time.process_time()
    await _closed_loop(caller_of, range(WARM, WARM + calls), lines)
    return (time.process_time() - started) / calls


async def sql_by_psycopg(url: str, calls: int, lines: int, pipelined: bool = False) -> float:
    """CPU seconds per call, raw psycopg: one connection a line (opened before);
    ``pipelined``: each transaction pipelined (``floor_sql.by_psycopg_pipelined``)."""
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conns = [await AsyncConnection.connect(conninfo) for _ in range(lines)]
    try:

        def caller_of(i: int) -> Caller:
            if pipelined:
                return lambda n: floor_sql.by_psycopg_pipelined(conns[i], _one_call(n, "pipeline"))
            return lambda n: floor_sql.by_psycopg(conns[i], _one_call(n, "psycopg"))

        return await _measured(caller_of, calls, lines)
    finally:
        for conn in conns:
            await conn.close()


async def sql_by_sqlalchemy(url: str, calls: int, lines: int) -> float:
    """CPU seconds per call through the hotline's own kind of ``AsyncEngine``."""
    engine = connect_for_loop(url, PoolSize(lines, 30.0))
    assert engine is not None

    def caller_of(_: int) -> Caller:
        return lambda n: floor_sql.by_sqlalchemy(engine, _one_call(n, "sqlalchemy"))

    try:
        return await _measured(caller_of, calls, lines)
    finally:
        await engine.dispose()


def measure(args: argparse.Namespace, python: Path, folder: Path) -> None:
    c = args.concurrency
    accounts = max(args.sql_calls + WARM, args.ours_calls) + 1
    ours: Load | None = None
    with pin_burst.database("postgresql", folder, accounts) as url:
        with pin_burst.controller_process(url, args.root, 2 * c, folder) as (port, process):
            commands = record(port, accounts - 1)
            if args.ours_calls:
                ours = drive(port, process.pid, args.ours_calls, c, 1, "ours", folder)
        lines_of_sql = args.sql_concurrency
        psycopg_cpu = asyncio.run(sql_by_psycopg(url, args.sql_calls, lines_of_sql))
        sqlalchemy_cpu = asyncio.run(sql_by_sqlalchemy(url, args.sql_calls, lines_of_sql))
        pipelined_cpu = asyncio.run(sql_by_psycopg(url, args.sql_calls, lines_of_sql, True))
        for run in ("psycopg", "sqlalchemy", "pipeline"):  # the SQL did the call's work
            closed, verified = pin_burst.recorded(url, run)
            done = len(closed & verified)
            print(f"  SQL by {run}: {done} of {WARM + args.sql_calls} calls closed and verified")
    pin, pin_median = pin_check(args.pins)
    half_pin, _ = pin_check(args.pins, pins.N // 2)
    script = folder / "commands.txt"
    script.write_text("".join(f"{line}\n" for line in commands), encoding="utf-8")
    lines = {}
    for kind in ("panoramisk", "raw"):
        server_python = python if kind == "panoramisk" else Path(sys.executable)
        with peer_server(server_python, kind, script, folder) as (port, process):
            lines[kind] = drive(port, process.pid, args.peer_calls, c, 1, kind, folder)
    for name, load in (("ours", ours), *lines.items()):
        if load is not None and load.errors:
            print(f"  {name}: {load.errors} of {load.calls} calls failed: {load.first_error}")
    print(f"the call: {len(commands)} command lines; PIN check median {pin_median * 1000:.2f} ms")
    line, peer = lines["raw"].cpu, lines["panoramisk"]
    parts = Parts(pin, half_pin, psycopg_cpu, pipelined_cpu, sqlalchemy_cpu, line, peer, ours)
    report(args, len(commands), parts)


@dataclass(frozen=True)
class Parts:
    """CPU seconds per call of each measured part."""

    pin: float
    half_pin: float  # at half the product's scrypt cost
    psycopg: float
    pipelined: float  # the same, each transaction pipelined
    sqlalchemy: float
    raw_line: float
    panoramisk: Load
    ours: Load | None

    @property
    def floor(self) -> float:
        return self.pin + self.psycopg + self.raw_line

    @property
    def with_stack(self) -> float:
        """The floor with SQLAlchemy and panoramisk's line in place of the raw ones."""
        return self.pin + self.sqlalchemy + self.panoramisk.cpu


def report(args: argparse.Namespace, commands: int, p: Parts) -> None:
    peer = p.panoramisk.cpu
    figures = [
        Figure(f"PIN check (scrypt N={pins.N}), best of {args.pins}", p.pin, peer, "s"),
        Figure(f"  the same at N={pins.N // 2} (half the cost)", p.half_pin, peer, "s"),
        Figure("SQL, 12 statements in 5 transactions: raw psycopg", p.psycopg, peer, "s"),
        Figure("  each transaction pipelined", p.pipelined, peer, "s"),
        Figure("SQL, the same: SQLAlchemy AsyncEngine", p.sqlalchemy, peer, "s"),
        Figure("SQLAlchemy's share (AsyncEngine - psycopg)", p.sqlalchemy - p.psycopg, peer, "s"),
        Figure("the line: raw asyncio server", p.raw_line, peer, "s"),
        Figure("floor: PIN + psycopg + raw line", p.floor, peer, "s", want="<= 5"),
        Figure("PIN + SQLAlchemy + panoramisk's line", p.with_stack, peer, "s", want="<= 5"),
    ]
    if p.ours is not None:
        figures.append(Figure("ours: ivr fastagi, the whole call", p.ours.cpu, peer, "s"))
        figures.append(Figure("ours above the floor", p.ours.cpu - p.floor, peer, "s"))
    c = args.concurrency
    show(
        f"The floor of one call's CPU, {c} concurrent calls (postgresql)",
        figures,
        f"panoramisk's server CPU per call, the same {commands} commands, no work "
        f"({p.panoramisk.rate:.0f} calls/s)",
    )
    budget = 5 * peer
    verdict = "reachable" if p.floor <= budget else "NOT reachable"
    print(
        f"floor sum vs 5x panoramisk: {p.floor * 1000:.2f} ms vs {budget * 1000:.2f} ms "
        f"({p.floor / peer:.1f}x panoramisk): target 1's CPU ratio is {verdict} with this "
        f"work and this PIN cost (N={pins.N}; the PIN alone is {p.pin / peer:.1f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, default=50, help="calls up at once")
    parser.add_argument(
        "--sql-concurrency", type=int, default=50, help="the SQL's calls at once (connections)"
    )
    parser.add_argument("--sql-calls", type=int, default=1500, help="calls of SQL, each way")
    parser.add_argument("--peer-calls", type=int, default=3000, help="calls made to each line")
    parser.add_argument("--ours-calls", type=int, default=600, help="calls to ours (0: none)")
    parser.add_argument("--pins", type=int, default=50, help="PIN checks timed")
    parser.add_argument("--root", type=Path, default=pin_burst.ROOT, help="ours's checkout")
    args = parser.parse_args()
    args.root = args.root.resolve()
    try:
        python = peer_python()
    except NoPeer as exc:
        print(f"fastagi_floor: no panoramisk to compare with: {exc}")
        raise SystemExit(2) from None
    with tempfile.TemporaryDirectory() as scratch:
        try:
            measure(args, python, Path(scratch))
        except pin_burst.Unavailable as exc:
            print(f"postgresql: not measured: {exc}")


if __name__ == "__main__":
    main()
