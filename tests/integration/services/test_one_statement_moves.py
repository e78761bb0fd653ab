"""An agent's claim, the answer and the end of the talk on both databases: on PostgreSQL
each is one statement run alone (``OneStatementMoves``), on SQLite the unit of work's
steps; either way the same rows move as the lifecycle says, the offer is audited, and a
move that finds its entry elsewhere changes nothing (or takes the unit of work's way)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH
from sqlalchemy import Engine, event, text
from sqlalchemy.dialects.postgresql import psycopg as pg_psycopg
from sqlalchemy.orm import sessionmaker

from integration.services.test_contact_store import available, caller, center, ids
from integration.support import Db, StoppedClock
from ivr.app.bootstrap import Components
from ivr.center import lifecycle as lc
from ivr.services import contact_moves
from ivr.services.contact_center import ContactCenter
from ivr.services.contact_context import CenterSettings
from ivr.services.contact_entries import Entry
from ivr.store.db import connect
from ivr.store.queue_claims import claim_statement
from ivr.store.queue_offers import CANDIDATES
from ivr.store.unit_of_work import SqlUnitOfWork

__all__ = ["center", "ids"]  # the fixtures, used by name


def test_postgresql_has_the_one_statement_moves_and_sqlite_takes_the_unit_of_works_way(
    hotline: Components,
) -> None:
    moves = hotline.unit_of_work().one_statement()
    assert (moves is not None) == (hotline.database.dialect.name == "postgresql")


def test_a_claim_offers_the_best_caller_the_agent_can_take_and_audits_the_offer(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    general = center.enqueue(caller("general"))
    clock.advance(seconds=5)
    payments = center.enqueue(caller("payments", account_number="1234"))
    center.enqueue(caller("security"))  # alice has no security: not hers
    available(center, clock, ids["alice"])
    assignment = center.claim_next(ids["alice"])
    assert assignment is not None
    assert (assignment.entry.id, assignment.entry.state) == (payments.id, lc.OFFERED)
    assert assignment.entry.agent_id == ids["alice"]
    assert assignment.entry.offered_at == clock.now()
    assert (assignment.agent.state, assignment.agent.entry_id) == (lc.RINGING, payments.id)
    row = db.one("audit_log", action="queue_offered")
    assert (row["call_id"], row["account_number"], row["actor"]) == (
        payments.call_id, "1234", "ivr",
    )  # fmt: skip
    assert row["detail"] == {"entry": payments.id, "queue": "payments", "kind": lc.CALL,
                             "agent": "alice"}  # fmt: skip
    assert center.claim_next(ids["alice"]) is None  # ringing: not free
    assert db.count("audit_log", action="queue_offered") == 1
    assert center.entry(general.id).state == lc.WAITING  # type: ignore[union-attr]


def test_an_agent_who_is_not_free_or_has_nobody_to_take_claims_nothing(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    center.enqueue(caller("security"))
    assert center.claim_next(ids["alice"]) is None  # offline
    available(center, clock, ids["alice"])
    assert center.claim_next(ids["alice"]) is None  # no security skill
    assert center.agent(ids["alice"]).state == lc.AVAILABLE  # type: ignore[union-attr]
    assert db.count("audit_log", action="queue_offered") == 0


def test_the_answer_and_the_end_of_the_talk_move_entry_and_agent_as_the_lifecycle_says(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    waiting = center.enqueue(caller("general"))
    clock.advance(seconds=20)  # within the holder's lease (30 s): still due
    available(center, clock, ids["alice"])  # one second more
    assignment = center.claim_next(ids["alice"])
    assert assignment is not None
    clock.advance(seconds=4.5)
    answered_at = clock.now()
    center.connected(waiting.id)
    entry = center.entry(waiting.id)
    assert entry is not None and (entry.state, entry.wait_seconds, entry.lease_until) == (
        lc.CONNECTED, 25, None,
    )  # fmt: skip
    assert entry.answered_at == answered_at
    agent = center.agent(ids["alice"])
    assert agent is not None and (agent.state, agent.state_since) == (lc.ON_CALL, answered_at)
    clock.advance(seconds=90.7)
    center.finished(waiting.id)
    entry = center.entry(waiting.id)
    assert entry is not None and (entry.state, entry.talk_seconds) == (lc.DONE, 90)
    assert entry.ended_at == clock.now()
    agent = center.agent(ids["alice"])
    assert agent is not None and agent.state == lc.WRAP_UP
    assert agent.wrap_up_until == clock.now() + timedelta(seconds=30)
    clock.advance(seconds=5)
    center.finished(waiting.id)  # twice changes nothing
    assert center.entry(waiting.id) == entry


def test_an_answer_for_a_caller_no_longer_offered_changes_nothing(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    waiting = center.enqueue(caller("general"))
    available(center, clock, ids["alice"])
    assert center.claim_next(ids["alice"]) is not None
    center.not_answered(waiting.id)  # back in line, alice missed it
    center.connected(waiting.id)
    entry = db.one("queue_entries", id=waiting.id)
    assert (entry["state"], entry["agent_id"], entry["answered_at"]) == (lc.WAITING, None, None)
    assert center.agent(ids["alice"]).state == lc.MISSED  # type: ignore[union-attr]


def test_the_end_of_a_call_never_answered_counts_as_abandoned_and_frees_the_agent(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    waiting = center.enqueue(caller("general"))
    available(center, clock, ids["alice"])
    assert center.claim_next(ids["alice"]) is not None
    clock.advance(seconds=3)
    center.finished(waiting.id)  # the offer rang, the caller hung up
    entry = db.one("queue_entries", id=waiting.id)
    assert (entry["state"], entry["talk_seconds"]) == (lc.ABANDONED, None)
    assert center.agent(ids["alice"]).state == lc.AVAILABLE  # type: ignore[union-attr]


@pytest.fixture
def shanghai(seeded_url: str) -> Iterator[Engine]:
    """The database through connections whose session time zone is not UTC."""
    engine = connect(seeded_url)

    @event.listens_for(engine, "connect")
    def _zone(dbapi_connection: Any, _record: Any) -> None:
        if engine.dialect.name == "postgresql":
            dbapi_connection.execute("SET TIME ZONE 'Asia/Shanghai'")
            dbapi_connection.commit()

    yield engine
    engine.dispose()


def test_times_come_back_as_utc_whatever_the_sessions_time_zone(
    shanghai: Engine, clock: StoppedClock
) -> None:
    center = ContactCenter(
        lambda: SqlUnitOfWork(sessionmaker(shanghai, expire_on_commit=False)), clock,
        CenterSettings(lambda: b"zones", wrap_up_seconds=30, queue_lease_seconds=3600),
    )  # fmt: skip
    alice = next(a.id for a in center.agents_view() if a.username == "alice")
    waiting = center.enqueue(caller("general"))
    available(center, clock, alice)
    assignment = center.claim_next(alice)
    assert assignment is not None
    assert assignment.entry.offered_at == clock.now()
    assert assignment.entry.offered_at.utcoffset() == timedelta(0)  # type: ignore[union-attr]
    assert assignment.agent.state_since.utcoffset() == timedelta(0)
    assert assignment.entry.enqueued_at == waiting.enqueued_at


def test_a_statement_hook_on_the_engine_sees_the_one_statement_moves(
    hotline: Components, center: ContactCenter, clock: StoppedClock, ids: dict[str, int]
) -> None:
    """The FastAGI gate steps out around each statement (``ivr.app.gate_waits``): the
    moves that run alone must not slip past its hooks."""
    seen: list[str] = []

    def hook(*args: Any) -> None:
        seen.append(args[2])

    event.listen(hotline.database, "before_cursor_execute", hook)
    try:
        waiting = center.enqueue(caller("general"))
        available(center, clock, ids["alice"])
        seen.clear()
        assert center.claim_next(ids["alice"]) is not None
        center.connected(waiting.id)
        center.finished(waiting.id)
    finally:
        event.remove(hotline.database, "before_cursor_execute", hook)
    if hotline.database.dialect.name == "postgresql":  # one statement each
        assert len(seen) == 3 and "audit_log" in seen[0]
    else:
        assert len(seen) > 3
    assert center.entry(waiting.id).state == lc.DONE  # type: ignore[union-attr]


@contextmanager
def a_pair_held(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], hotline: Components
) -> Iterator[tuple[list[Entry], Entry]]:
    """``CANDIDATES + 1`` payments callers and a general one behind them (a lower
    priority; alice takes both), alice available, and the first ``CANDIDATES`` payments
    entries locked by another connection (the other claims, mid-statement) while the
    block runs; yields the payments entries and the general one."""
    payments = [center.enqueue(caller("payments")) for _ in range(CANDIDATES + 1)]
    clock.advance(seconds=1)
    general = center.enqueue(caller("general"))
    available(center, clock, ids["alice"])
    with hotline.database.connect() as others:
        others.execute(
            text("SELECT id FROM queue_entries WHERE id = ANY(:ids) FOR UPDATE"),
            {"ids": [entry.id for entry in payments[:CANDIDATES]]},
        )
        try:
            yield payments, general
        finally:
            others.rollback()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_claim_never_takes_worse_than_a_pair_whose_candidates_other_claims_hold(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], hotline: Components
) -> None:
    """Fifty agents claiming at once may hold all of one pair's first ``CANDIDATES``
    entries: an agent claiming meanwhile gets the next entry of that pair, which nobody
    holds and comes first, not the best of another pair's."""
    with a_pair_held(center, clock, ids, hotline) as (payments, general):
        assignment = center.claim_next(ids["alice"])
    assert assignment is not None
    assert assignment.entry.id == payments[-1].id
    assert center.entry(general.id).state == lc.WAITING  # type: ignore[union-attr]


def test_the_claim_is_short_enough_for_psycopg_to_keep_it_parsed() -> None:
    """psycopg keeps the parsed form of a query of at most 4 KiB; a longer one is parsed
    again at every claim."""
    move = contact_moves.offer_move(lc.Actor.AGENT)
    for walk in (False, True):
        sql = str(claim_statement(move, walk).compile(dialect=pg_psycopg.dialect()))
        assert len(sql.encode()) <= MAX_CACHED_STATEMENT_LENGTH, walk


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_the_dispatchers_offer_never_takes_worse_than_a_pair_other_claims_hold(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], hotline: Components
) -> None:
    """The same for the dispatcher's offer (``queue_offers.offer_in_one``)."""
    with a_pair_held(center, clock, ids, hotline) as (payments, general):
        made = center.dispatch()
    assert [a.entry.id for a in made if a.agent.id == ids["alice"]] == [payments[-1].id]
    assert center.entry(general.id).state == lc.WAITING  # type: ignore[union-attr]
