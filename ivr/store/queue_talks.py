"""The talk's two moves as one statement each on PostgreSQL, in a transaction of its own
(``SqlOneStatementMoves.answer`` and ``finish``): the agent the entry is offered to locked
first (the lock order everywhere: agent, entry, callback), then compare-and-sets on the
states the move names (``ivr.center.lifecycle``)::

    WITH locked AS (SELECT id FROM agents
                    WHERE id = (SELECT agent_id FROM queue_entries WHERE id = :entry)
                    FOR UPDATE),
         entry AS (UPDATE queue_entries SET state = 'connected', ...
                   WHERE id = :entry AND state IN ('offered')
                   AND agent_id = (SELECT id FROM locked) RETURNING ...),
         agent AS (UPDATE agents SET state = 'on_call', ... FROM entry
                   WHERE agents.id = entry.agent_id AND agents.state IN ('ringing')),
         callback AS (UPDATE callbacks ...)  -- finish only
    SELECT entry.id FROM entry

One round trip instead of seven or eight (BEGIN, the entry read, the agent's and the
entry's locks, the two moves, COMMIT). No row: the entry was elsewhere (or changed agents
meanwhile), nothing changed, and the use case takes the unit of work's way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    bindparam,
    cast,
    extract,
    func,
    select,
    update,
)  # fmt: skip

from ivr.center import lifecycle as lc
from ivr.services.contact_ports import TalkMove
from ivr.store import models as m
from ivr.store.base import UtcDateTime
from ivr.store.built_once import built_once
from ivr.store.queue_offers import one_of

ENTRIES: Table = m.QueueEntryRow.__table__  # type: ignore[assignment]
AGENTS: Table = m.AgentRow.__table__  # type: ignore[assignment]
CALLBACKS: Table = m.CallbackRow.__table__  # type: ignore[assignment]
ENTRY_ID = bindparam("talk_entry", type_=Integer())
NOW = bindparam("talk_now", type_=UtcDateTime())
WRAP_UP_UNTIL = bindparam("talk_wrap_up_until", type_=UtcDateTime())


def _seconds_to_now(since: ColumnElement[Any]) -> ColumnElement[int]:
    """Whole seconds from ``since`` to ``NOW`` (truncated, as ``int(seconds)``)."""
    return cast(func.trunc(extract("epoch", NOW - since)), Integer)


def _statement(move: TalkMove, entry_values: dict[str, Any], wrap_up: bool) -> Select[Any]:
    holder = select(ENTRIES.c.agent_id).where(ENTRIES.c.id == ENTRY_ID).scalar_subquery()
    locked = select(AGENTS.c.id).where(AGENTS.c.id == holder).with_for_update().cte("locked")
    entry = (
        update(ENTRIES)
        .where(
            ENTRIES.c.id == ENTRY_ID,
            one_of(ENTRIES.c.state, move.entry_from),
            ENTRIES.c.agent_id == select(locked.c.id).scalar_subquery(),
        )
        .values(state=move.entry_to, **entry_values)
        .returning(ENTRIES.c.id, ENTRIES.c.agent_id, ENTRIES.c.callback_id)
        .cte("entry")
    )
    agent = (
        update(AGENTS)
        .where(AGENTS.c.id == entry.c.agent_id, one_of(AGENTS.c.state, move.agent_from))
        .values(
            state=move.agent_to,
            state_since=NOW,
            wrap_up_until=WRAP_UP_UNTIL if wrap_up and move.agent_to == lc.WRAP_UP else None,
            pause_reason=None,
        )
        .returning(AGENTS.c.id)
        .cte("agent")
    )
    found = select(entry.c.id).add_cte(agent)
    if move.callback_to is None:
        return found
    callback = (
        update(CALLBACKS)
        .where(CALLBACKS.c.id == entry.c.callback_id, one_of(CALLBACKS.c.state, move.callback_from))
        .values(state=move.callback_to, used_at=NOW)
        .returning(CALLBACKS.c.id)
        .cte("callback")
    )
    return found.add_cte(callback)


@built_once
def answer_statement(move: TalkMove) -> Select[Any]:
    """The answer, built once per move (values: ``talk_entry``, ``talk_now``)."""
    values = {
        "answered_at": NOW,
        "wait_seconds": _seconds_to_now(ENTRIES.c.enqueued_at),
        "lease_until": None,
    }
    return _statement(move, values, wrap_up=False)


@built_once
def finish_statement(move: TalkMove) -> Select[Any]:
    """The end of the talk, built once per move (values: ``talk_entry``, ``talk_now``,
    ``talk_wrap_up_until``)."""
    values = {
        "ended_at": NOW,
        "talk_seconds": _seconds_to_now(func.coalesce(ENTRIES.c.answered_at, NOW)),
    }
    return _statement(move, values, wrap_up=True)
