"""How long the report takes over a month of a big call table: the funnel, branches,
transfers, queues and calls per hour (``ivr.services.reports.build_report``), on
PostgreSQL with a million call records (target: under 2 s) and on SQLite with 100,000.

The rows are synthetic (paths of the real flow's nodes, outcomes, handoffs, queue entries
for the calls that reached a queue), spread over the year before now in the order calls
happen (as the hotline writes them), so a month is about a twelfth of the table. They are
loaded with COPY on PostgreSQL (executemany in big batches on SQLite) into a database made
for the run (``IVR_TEST_POSTGRES_URL``'s server, or ``--url``) and dropped after it.
Figures are printed, never asserted.

    .venv/bin/python bench/funnel.py [--calls 1000000] [--sqlite-calls 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from ivr.flow.loader import load_flow  # noqa: E402
from ivr.services.insight import Period  # noqa: E402
from ivr.services.registry import HOTLINE_ACTIONS  # noqa: E402
from ivr.services.reports import build_report  # noqa: E402
from ivr.store import schema  # noqa: E402
from ivr.store.db import connect, redact  # noqa: E402
from ivr.store.node_visits import visit_rows  # noqa: E402
from ivr.store.unit_of_work import SqlUnitOfWork  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HELLO = ("choose_language", "welcome", "main_menu")
IDENTIFY = ("identify", "ask_account", "ask_pin", "check_identity", "after_verify")
#: (weight, path, outcome, reason, verification, handoff node, how, queue)
SHAPES: tuple[tuple[int, tuple[str, ...], str, str | None, str | None, str | None,
                    str | None, str | None], ...] = (
    (20, (*HELLO, "reset_intro", *IDENTIFY, "reset_send_code", "reset_code_sent",
          "anything_else", "goodbye"), "solved", "password_reset", "success", None, None, None),
    (12, (*HELLO, "payment_intro", *IDENTIFY, "payment_lookup", "payment_details",
          "payment_followup", "goodbye"), "solved", "payment_failure", "success", None, None,
     None),
    (10, HELLO, "abandoned", None, None, None, None, None),
    (14, (*HELLO, "agent_hours", "agent"), "queued", None, None, "main_menu", "chose",
     "general"),
    (6, (*HELLO, "security_intro", *IDENTIFY, "freeze_account", "account_frozen",
         "security_queue"), "queued", "security", "success", "freeze_account", "routed",
     "security"),
    (4, (*HELLO, "reset_intro", "identify", "ask_account", "ask_pin", "check_identity",
         "account_locked", "security_queue"), "queued", "password_reset", "locked",
     "check_identity", "locked", "security"),
    (5, (*HELLO, "payment_intro", "identify", "ask_account", "ask_pin"), "interrupted",
     "payment_failure", None, None, None, None),
    (6, (*HELLO, "payment_intro", *IDENTIFY, "payment_lookup", "payment_details",
         "payment_followup", "payments_hours", "payments_agent"), "queued",
     "payment_failure", "success", "payment_followup", "chose", "payments"),
)  # fmt: skip
RECORD_COLUMNS = (
    "call_id", "channel", "caller_id", "caller_e164", "language", "reason", "account_number",
    "path", "last_node", "outcome", "queue", "started_at", "ended_at", "last_seen_at",
    "timeouts", "invalid", "verification", "handoff_node", "handoff",
)  # fmt: skip
VISIT_COLUMNS = (
    "call_id", "started_at", "node", "entered", "timeouts", "invalid", "hung_up", "to_person",
)  # fmt: skip
ENTRY_COLUMNS = (
    "kind", "call_id", "queue", "priority", "skill", "language", "caller_id", "path",
    "enqueued_at", "state", "answered_at", "ended_at", "wait_seconds", "talk_seconds",
)  # fmt: skip


Row = tuple[Any, ...]


def _shapes() -> list[tuple[Any, ...]]:
    """Each shape with what every call of it shares: its path as JSON and node rows."""
    out = []
    for _, path, outcome, reason, verification, node, how, queue in SHAPES:
        rows = visit_rows("", datetime.now(UTC), path, path[-1], outcome, {}, {}, node)
        nodes = [(r["node"], r["entered"], r["hung_up"], r["to_person"]) for r in rows]
        out.append((json.dumps(list(path)), path, outcome, reason, verification, node, how,
                    queue, nodes))  # fmt: skip
    return out


def synthetic(
    count: int, end: datetime, when: Any, seed: int = 13
) -> Iterator[tuple[Row, list[Row], Row | None]]:
    """``count`` calls over the year before ``end``: (record, node rows, queue entry), as
    tuples in the columns' order, times written by ``when`` (a datetime to the backend's
    text)."""
    rnd = random.Random(seed)
    shapes = _shapes()
    weights = [shape[0] for shape in SHAPES]
    year = timedelta(days=365).total_seconds()
    picks = rnd.choices(range(len(shapes)), weights, k=count)
    for n in range(count):
        path_json, path, outcome, reason, verification, node, how, queue, nodes = shapes[picks[n]]
        # in the order calls happen (as a hotline writes them), a few minutes' jitter
        ago = year * (1 - n / count) + rnd.random() * 300
        started = end - timedelta(seconds=int(ago))
        ended = started + timedelta(seconds=rnd.randint(30, 600))
        start_text, end_text = when(started), when(ended)
        timed_out = rnd.random() < 0.1
        wrong = rnd.random() < 0.08
        call_id = f"bench-{n}"
        number = f"+86138{n:08d}"
        record = (
            call_id, "fastagi", number, number, "zh", reason, None, path_json, path[-1],
            outcome, queue, start_text, end_text, end_text,
            '{"main_menu": 1}' if timed_out else "{}",
            json.dumps({path[-1]: 1}) if wrong else "{}", verification, node, how,
        )  # fmt: skip
        visits = [
            (call_id, start_text, name, entered, int(timed_out and name == "main_menu"),
             int(wrong and name == path[-1]), hung_up, to_person)
            for name, entered, hung_up, to_person in nodes
        ]  # fmt: skip
        entry = None
        if queue:
            wait = int(rnd.expovariate(1 / 30))
            answered = rnd.random() < 0.8
            entry = (
                "call", call_id, queue, 1, queue, "zh", number, "[]", end_text,
                "done" if answered else "abandoned",
                when(ended + timedelta(seconds=wait)) if answered else None,
                when(ended + timedelta(seconds=wait + 200)), wait, 200 if answered else None,
            )  # fmt: skip
        yield record, visits, entry


# -- loading ---------------------------------------------------------------------------------

TABLES = {"call_records": RECORD_COLUMNS, "call_node_visits": VISIT_COLUMNS,
          "queue_entries": ENTRY_COLUMNS}  # fmt: skip


def _copy_value(value: Any) -> str:
    return "\\N" if value is None else str(value)


def load(engine: Engine, count: int, end: datetime) -> dict[str, int]:
    """Fill the three tables; COPY on PostgreSQL, executemany on SQLite."""
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        when = datetime.isoformat
    else:

        def when(at: datetime) -> str:
            return at.strftime("%Y-%m-%d %H:%M:%S.%f")

    counts = dict.fromkeys(TABLES, 0)
    batch: dict[str, list[Row]] = {t: [] for t in TABLES}
    raw = engine.raw_connection()
    indexes: list[str] = []
    try:
        cursor = raw.cursor()
        if postgres:  # built once after the load, not kept up row by row
            cursor.execute("SET synchronous_commit = off")
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
                "AND indexdef NOT LIKE 'CREATE UNIQUE%%'",
                (list(TABLES),),
            )
            for name, definition in cursor.fetchall():
                indexes.append(definition)
                cursor.execute(f'DROP INDEX "{name}"')

        def flush() -> None:
            for table, rows in batch.items():
                if not rows:
                    continue
                columns = TABLES[table]
                if postgres:
                    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                    text_rows = "".join(
                        "\t".join(_copy_value(v) for v in row) + "\n" for row in rows
                    )
                    with cursor.copy(sql) as copy:  # type: ignore[attr-defined]
                        copy.write(text_rows.encode("utf-8"))
                else:
                    marks = ", ".join("?" for _ in columns)
                    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                    cursor.executemany(sql, rows)
                counts[table] += len(rows)
                rows.clear()

        for record, visits, entry in synthetic(count, end, when):
            batch["call_records"].append(record)
            batch["call_node_visits"].extend(visits)
            if entry:
                batch["queue_entries"].append(entry)
            if len(batch["call_records"]) >= 50_000:
                flush()
        flush()
        for definition in indexes:
            cursor.execute(definition)
        raw.commit()
    finally:
        raw.close()
    if postgres:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return counts


# -- the run ---------------------------------------------------------------------------------


@contextmanager
def postgres_database(server: str) -> Iterator[str]:
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool,
                          connect_args={"connect_timeout": 5})  # fmt: skip
    name = f"ivr_bench_funnel_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(label: str, url: str, count: int, runs: int) -> None:
    engine = connect(url)
    try:
        schema.upgrade(engine)
        end = datetime.now(UTC).replace(microsecond=0)
        began = time.perf_counter()
        counts = load(engine, count, end)
        loaded = time.perf_counter() - began
        rows = ", ".join(f"{n:,} {t}" for t, n in counts.items())
        print(f"{label}: loaded {rows} in {loaded:.1f} s")
        flow = load_flow(ROOT / "callflows.yaml", HOTLINE_ACTIONS)
        sessions = sessionmaker(engine)
        period = Period(end - timedelta(days=30), end, flow.timezone)
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            report = build_report(lambda: SqlUnitOfWork(sessions), flow, period)
            times.append(time.perf_counter() - began)
        print(
            f"{label}: report over 30 days ({report.calls:,} calls, {len(report.nodes)} nodes, "
            f"{len(report.hours)} hours): best {min(times):.3f} s, "
            f"median {statistics.median(times):.3f} s of {runs} runs"
        )
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--calls", type=int, default=1_000_000, help="PostgreSQL's calls")
    parser.add_argument("--sqlite-calls", type=int, default=100_000, help="SQLite's calls")
    parser.add_argument("--url", help="a PostgreSQL server URL (default: IVR_TEST_POSTGRES_URL)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    backends = {b.strip() for b in args.backends.split(",")}
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/funnel.sqlite3"
            measure("sqlite", url, args.sqlite_calls, args.runs)
    if "postgresql" in backends:
        server = args.url or os.environ.get("IVR_TEST_POSTGRES_URL") or DEFAULT_POSTGRES
        try:
            with postgres_database(server) as url:
                measure("postgresql", url, args.calls, args.runs)
        except Exception as exc:  # a bench reports, it does not stop the others
            print(f"postgresql at {redact(server)}: skipped ({type(exc).__name__}: {exc})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
