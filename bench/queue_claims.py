"""Agents claiming callers from a long queue: 50 agent threads over 10,000 waiting callers
of mixed skill, language and priority, on PostgreSQL (and SQLite).

Each agent thread does what an agent's console does through the contact centre
(``ContactCenter.claim_next``), then what the phone side reports of the call
(``connected``, ``finished``; the wrap-up is 0 s, so the agent is free at once) and claims
again, until nothing it can take is left (twice nothing, 50 ms apart). Every caller can be
taken by some agent, not every agent takes every caller. Printed per backend: claims/s
over the whole drain, doubles (a caller offered to two agents: by the claims the threads
saw and by the audit log's ``queue_offered`` rows), lost (a caller some agent could take
still waiting when every agent had stopped), dead threads (an agent thread ended by an
exception), the pool waits that ended in a retry, and the benchmark process's CPU per
claim (all of the Python side: the claim, and the phone side's two reports). The pool
has one connection per agent (``--pool``, sized to the concurrency it serves, as the
product sizes its own); a smaller one (``--pool 10``) makes agents wait for connections:
their claims are tried again (``ivr_store_waits_retried_total``). SQLite runs on 2,000
waiting callers by default (``--sqlite-callers``): it serialises every claim anyway.

The peer, measured in the same run on the same server (PostgreSQL only): the least a
claim can cost there. A plain table of the same size and mix, and 50 threads each on its
own psycopg connection (autocommit) looping over one ``UPDATE ... WHERE id = (SELECT ...
ORDER BY priority DESC, enqueued_at, id FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING`` and
one ``UPDATE`` ending the call, as ours claims and ends it. Each backend gets a database
of its own (PostgreSQL: created on ``IVR_TEST_POSTGRES_URL``'s server, dropped after).
The target is the issue's absolute one: 500 claims/s on PostgreSQL.

    .venv/bin/python bench/queue_claims.py [--callers 10000] [--agents 50] [--pool 50]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from figures import Figure, show  # noqa: E402
from sqlalchemy import Engine, create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from ivr.center import lifecycle as lc  # noqa: E402
from ivr.services import metrics  # noqa: E402
from ivr.services.clock import SystemClock  # noqa: E402
from ivr.services.contact_center import ContactCenter  # noqa: E402
from ivr.services.contact_context import CenterSettings  # noqa: E402
from ivr.store import models as m  # noqa: E402
from ivr.store import schema  # noqa: E402
from ivr.store.db import PoolSize, connect, redact  # noqa: E402
from ivr.store.unit_of_work import SqlUnitOfWork  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGET = 500.0  # claims/s on PostgreSQL (issue 15, target 4)
#: (queue, skill, priority): the flow's queues.
QUEUES = (("security", "security", 10), ("payments", "payments", 5),
          ("closure", "closure", 3), ("general", "general", 1))  # fmt: skip
#: The agents' skills and languages, in turn: between them they take every caller.
SKILL_SETS = (
    (("general", "payments"), ("en", "zh")),
    (("general", "closure", "security"), ("en",)),
    (("payments", "security"), ("zh",)),
    (("general",), ("en",)),
    (("closure", "security"), ("en", "zh")),
)
LANGUAGES = ("en", "zh")


class Unavailable(Exception):
    """The backend cannot be measured here (no server)."""


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    """A new, empty database of ``backend``; dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'queue_claims.sqlite3'}"
        return
    server = os.environ.get("IVR_TEST_POSTGRES_URL") or DEFAULT_POSTGRES
    admin = create_engine(
        server, isolation_level="AUTOCOMMIT", poolclass=NullPool,
        connect_args={"connect_timeout": 5},
    )  # fmt: skip
    name = f"ivr_bench_claims_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as exc:
        raise Unavailable(f"no PostgreSQL at {redact(server)}: {exc.__class__.__name__}") from exc
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass(frozen=True)
class Caller:
    queue: str
    skill: str
    priority: int
    language: str
    enqueued_at: datetime


def callers(count: int, start: datetime) -> list[Caller]:
    """``count`` callers of mixed queue and language, a few arriving together."""
    rng = random.Random(15)
    made, at = [], start
    for _ in range(count):
        queue, skill, priority = rng.choice(QUEUES)
        made.append(Caller(queue, skill, priority, rng.choice(LANGUAGES), at))
        at += timedelta(milliseconds=rng.choice((0, 100, 250)))
    return made


def skills_of(n: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return SKILL_SETS[n % len(SKILL_SETS)]


def seed(engine: Engine, crowd: list[Caller], agents: int, now: datetime) -> None:
    """The schema, ``agents`` available agents and the callers waiting, held by a holder
    whose lease outlasts the run."""
    schema.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(m.AgentRow), [
            {"username": f"agent{n:02d}", "name": f"Agent {n}", "password_hash": "-",
             "role": "agent", "skills": list(skills_of(n)[0]),
             "languages": list(skills_of(n)[1]), "endpoint": f"agent-{n:02d}",
             "state": lc.AVAILABLE, "state_since": now - timedelta(seconds=n)}
            for n in range(agents)
        ])  # fmt: skip
        conn.execute(insert(m.QueueEntryRow), [
            {"kind": lc.CALL, "call_id": f"bench-{n}", "queue": c.queue,
             "priority": c.priority, "skill": c.skill, "language": c.language,
             "caller_id": f"+1555{n:07d}", "path": ["welcome"], "enqueued_at": c.enqueued_at,
             "state": lc.WAITING, "lease_until": now + timedelta(days=1), "held_by": "bench"}
            for n, c in enumerate(crowd)
        ])  # fmt: skip
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


@dataclass
class Run:
    """What the agent threads did."""

    claims: list[tuple[int, int]] = field(default_factory=list)  # (entry id, agent id)
    dead: list[str] = field(default_factory=list)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def agents_claim(work: list[Callable[[], list[tuple[int, int]]]], run: Run) -> None:
    """Run each agent's loop in its own thread, released together; ``run`` gets their
    claims, the threads an exception ended, and the seconds until the last one stopped."""
    start = threading.Barrier(len(work) + 1)

    def thread(loop: Callable[[], list[tuple[int, int]]]) -> None:
        start.wait()
        try:
            mine = loop()
        except BaseException as exc:  # noqa: BLE001 - a dead agent thread is a figure
            with run.lock:
                run.dead.append(f"{type(exc).__name__}: {exc}")
            return
        with run.lock:
            run.claims.extend(mine)

    threads = [threading.Thread(target=thread, args=(w,), daemon=True) for w in work]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    run.seconds = time.perf_counter() - began


def retried() -> float:
    """Pool waits that ended in a retry so far in this process."""
    return metrics.REGISTRY.get_sample_value("ivr_store_waits_retried_total") or 0.0


def ours(url: str, crowd: list[Caller], agents: int, pool: int) -> dict[str, float]:
    """The product's claims over ``url``: claims/s, doubles, lost, dead threads."""
    sqlite = url.startswith("sqlite")
    engine = connect(url, None if sqlite else PoolSize(pool, 5.0), busy_timeout=30)
    now = SystemClock().now()
    seed(engine, crowd, agents, now)
    writer = threading.Lock() if sqlite else None
    sessions = sessionmaker(engine, expire_on_commit=False)
    settings = CenterSettings(lambda: b"bench", wrap_up_seconds=0, queue_lease_seconds=3600)
    center = ContactCenter(lambda: SqlUnitOfWork(sessions, writer, 30.0), SystemClock(), settings)
    ids = [a.id for a in center.agents_view()]

    def loop(agent_id: int) -> list[tuple[int, int]]:
        mine, misses = [], 0
        while misses < 2:
            assignment = center.claim_next(agent_id)
            if assignment is None:
                misses += 1
                time.sleep(0.05)
                continue
            misses = 0
            entry_id = assignment.entry.id
            mine.append((entry_id, agent_id))
            center.connected(entry_id)
            center.finished(entry_id)
        return mine

    retries_before = retried()
    run = Run()
    cpu = time.process_time()
    agents_claim([lambda a=a: loop(a) for a in ids], run)
    cpu = time.process_time() - cpu
    waits = retried() - retries_before
    by_entry = Counter(entry for entry, _ in run.claims)
    with engine.connect() as conn:
        offered = conn.execute(
            select(func.count()).select_from(
                select(m.AuditRow.call_id)
                .where(m.AuditRow.action == "queue_offered")
                .group_by(m.AuditRow.call_id)
                .having(func.count() > 1)
                .subquery()
            )
        ).scalar_one()
        still = conn.execute(
            select(func.count()).where(m.QueueEntryRow.state == lc.WAITING)
        ).scalar_one()
    engine.dispose()
    for why, n in Counter(run.dead).most_common(3):
        print(f"dead agent threads: {n} x {why[:300]}")
    return {
        "claims/s": len(run.claims) / run.seconds,
        "claims": len(run.claims),
        "doubles": max(sum(1 for n in by_entry.values() if n > 1), offered),
        "lost": still,  # every caller can be taken by some agent
        "dead": len(run.dead),
        "retried": waits,
        "cpu": cpu / max(1, len(run.claims)),
        "seconds": run.seconds,
    }


PEER_TABLE = """CREATE TABLE peer_queue (
    id serial PRIMARY KEY, state text NOT NULL, skill text NOT NULL, language text NOT NULL,
    priority int NOT NULL, enqueued_at timestamptz NOT NULL, agent_id int)"""
PEER_INDEX = "CREATE INDEX ON peer_queue (state, priority DESC, enqueued_at, id)"
PEER_CLAIM = """UPDATE peer_queue SET state = 'offered', agent_id = %(agent)s
    WHERE id = (SELECT id FROM peer_queue
                WHERE state = 'waiting' AND skill = ANY(%(skills)s)
                  AND language = ANY(%(languages)s)
                ORDER BY priority DESC, enqueued_at, id
                FOR UPDATE SKIP LOCKED LIMIT 1)
    RETURNING id"""
PEER_END = "UPDATE peer_queue SET state = 'done' WHERE id = %(id)s"


def peer(url: str, crowd: list[Caller], agents: int) -> dict[str, float]:
    """The bare claim loop on a plain table of the same callers (psycopg, autocommit)."""
    import psycopg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(PEER_TABLE)
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO peer_queue (state, skill, language, priority, enqueued_at) "
                "VALUES ('waiting', %s, %s, %s, %s)",
                [(c.skill, c.language, c.priority, c.enqueued_at) for c in crowd],
            )
        conn.execute(PEER_INDEX)
        conn.execute("VACUUM ANALYZE peer_queue")

    def loop(n: int) -> list[tuple[int, int]]:
        skills, languages = skills_of(n)
        mine, misses = [], 0
        with psycopg.connect(dsn, autocommit=True) as conn:
            while misses < 2:
                args = {"agent": n, "skills": list(skills), "languages": list(languages)}
                row = conn.execute(PEER_CLAIM, args).fetchone()
                if row is None:
                    misses += 1
                    time.sleep(0.05)
                    continue
                misses = 0
                mine.append((row[0], n))
                conn.execute(PEER_END, {"id": row[0]})
        return mine

    run = Run()
    cpu = time.process_time()
    agents_claim([lambda n=n: loop(n) for n in range(agents)], run)
    cpu = time.process_time() - cpu
    return {
        "claims/s": len(run.claims) / run.seconds,
        "claims": len(run.claims),
        "cpu": cpu / max(1, len(run.claims)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=10_000)
    parser.add_argument("--sqlite-callers", type=int, default=2_000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--pool", type=int, default=None, help="PostgreSQL (default: --agents)")
    parser.add_argument("--backends", default="postgresql,sqlite")
    args = parser.parse_args()
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    with tempfile.TemporaryDirectory(prefix="queue-claims-") as folder:
        for backend in backends:
            count = args.callers if backend != "sqlite" else args.sqlite_callers
            crowd = callers(count, start)
            try:
                with database(backend, Path(folder)) as url:
                    found = ours(url, crowd, args.agents, args.pool or args.agents)
                    bare = peer(url, crowd, args.agents) if backend == "postgresql" else None
            except Unavailable as exc:
                print(f"{backend}: skipped ({exc})")
                continue
            report(backend, found, bare, args, count)


def report(
    backend: str, found: dict[str, float], bare: dict[str, float] | None,
    args: argparse.Namespace, count: int,
) -> None:  # fmt: skip
    title = f"Queue claims, {backend}, {args.agents} agents, {count:,} waiting"
    rate = Figure(
        "claims/s", found["claims/s"], None if bare is None else bare["claims/s"], "/s",
        limit=f">= {TARGET:g}" if backend == "postgresql" else None,
    )  # fmt: skip
    figures = [
        rate,
        Figure("doubles", found["doubles"], limit="== 0"),
        Figure("lost", found["lost"], limit="== 0"),
        Figure("dead agent threads", found["dead"], limit="== 0"),
        Figure("claims made", found["claims"], None if bare is None else bare["claims"]),
        Figure("client CPU per claim", found["cpu"], None if bare is None else bare["cpu"], "s"),
        Figure("pool waits retried", found["retried"]),
    ]
    peer_name = "" if bare is None else (
        f"bare psycopg UPDATE ... FOR UPDATE SKIP LOCKED ... RETURNING + UPDATE, "
        f"{args.agents} threads, same server, same callers"
    )  # fmt: skip
    show(title, figures, peer=peer_name)


if __name__ == "__main__":
    main()
