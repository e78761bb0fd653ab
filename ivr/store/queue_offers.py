"""An offer in SQL: the best entry an agent can take, moved to ``offered`` with the agent
moved to ``ringing`` (``QueueEntries.offer_best``; the states come from the caller, who
looks them up in ``ivr.center.lifecycle``).

PostgreSQL does it in one statement, after the caller locked the agent row (the lock
order everywhere: agent, entry, callback)::

    WITH picked AS (SELECT id FROM queue_entries WHERE <waiting, due, its skill...>
                    ORDER BY priority DESC, enqueued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED),
         ringing AS (UPDATE agents SET state = 'ringing', entry_id = (picked's id) ...
                     WHERE agents.id = :agent AND <free> AND <picked one>
                     RETURNING agents.*),
         offered AS (UPDATE queue_entries SET state = 'offered', agent_id = :agent ...
                     FROM ringing WHERE queue_entries.id = ringing.entry_id
                     AND state = 'waiting' RETURNING queue_entries.*)
    SELECT offered.*, ringing.* FROM offered, ringing

The pick walks ``ix_queue_entries_dispatch`` (state, priority DESC, enqueued_at, id) in
order and stops at the first row it can take that nobody else has locked, so fifty
agents claiming at once each get a different entry without waiting for each other. The
``ringing`` and ``offered`` updates are compare-and-sets (the agent still free, the entry
still waiting): a row with nothing in it changed nothing the caller keeps (it rolls
back). Other databases (SQLite, whose writer lock already serialises the claims) take
the same steps as three statements. Each statement is built once per move (its
values are bound parameters): building one costs more than running it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    String,
    Table,
    bindparam,
    exists,
    or_,
    select,
    true,
    update,
)  # fmt: skip
from sqlalchemy.orm import Session

from ivr.center import lifecycle as lc
from ivr.services.contact_agents import Agent
from ivr.services.contact_ports import OfferMove
from ivr.store import models as m
from ivr.store.base import UtcDateTime

Q, A = m.QueueEntryRow, m.AgentRow
ENTRIES: Table = m.QueueEntryRow.__table__  # type: ignore[assignment]
AGENTS: Table = m.AgentRow.__table__  # type: ignore[assignment]
ORDER = (Q.priority.desc(), Q.enqueued_at, Q.id)


class Columns:
    """One side (``entry_`` or ``agent_``) of a row holding both, read by column name."""

    def __init__(self, row: Row[Any], prefix: str) -> None:
        self._row, self._prefix = row._mapping, prefix

    def __getattr__(self, name: str) -> Any:
        return self._row[self._prefix + name]


NOW = bindparam("offer_now", type_=UtcDateTime())
AGENT_ID = bindparam("offer_agent", type_=Integer())
SKILLS = bindparam("offer_skills", expanding=True, type_=String())
LANGUAGES = bindparam("offer_languages", expanding=True, type_=String())


def _eligible(states: Sequence[str]) -> list[ColumnElement[bool]]:
    """An entry the agent (``SKILLS``, ``LANGUAGES``) may be offered at ``NOW``."""
    return [
        Q.state.in_(states),
        Q.skill.in_(SKILLS),
        Q.language.in_(LANGUAGES),
        or_(Q.not_before.is_(None), Q.not_before <= NOW),
        or_(Q.expires_at.is_(None), Q.expires_at > NOW),
        or_(Q.lease_until.is_(None), Q.lease_until > NOW),  # its holder is alive
    ]


def _free(states: Sequence[str]) -> ColumnElement[bool]:
    """An agent who may be offered a call at ``NOW``: in one of ``states``, available or
    in a wrap-up that has run out, not disabled."""
    return (
        A.state.in_(states)
        & or_(A.state != lc.WRAP_UP, A.wrap_up_until <= NOW)
        & A.disabled_at.is_(None)
    )


def _pick(move: OfferMove) -> Select[Any]:
    return (
        select(Q.id)
        .where(*_eligible(move.entry_from))
        .order_by(*ORDER)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def _ring(move: OfferMove, entry_id: Any) -> Any:
    return (
        update(AGENTS)
        .where(AGENTS.c.id == AGENT_ID, _free(move.agent_from))
        .values(
            state=move.agent_to,
            state_since=NOW,
            wrap_up_until=None,
            pause_reason=None,
            entry_id=entry_id,
        )  # fmt: skip
        .returning(*AGENTS.c)
    )


def _offer(move: OfferMove, entry_id: Any) -> Any:
    return (
        update(ENTRIES)
        .where(ENTRIES.c.id == entry_id, ENTRIES.c.state.in_(move.entry_from))
        .values(state=move.entry_to, agent_id=AGENT_ID, offered_at=NOW)
        .returning(*ENTRIES.c)
    )


@cache
def one_statement(move: OfferMove) -> Select[Any]:
    """The offer on PostgreSQL, built once per move; its row holds ``entry_*`` and
    ``agent_*`` columns."""
    picked = _pick(move).cte("picked")
    ringing = (
        _ring(move, select(picked.c.id).scalar_subquery())
        .where(exists(picked.select()))
        .cte("ringing")
    )
    offered = _offer(move, ringing.c.entry_id).cte("offered")
    return select(
        *(c.label(f"entry_{c.name}") for c in offered.c),
        *(c.label(f"agent_{c.name}") for c in ringing.c),
    ).select_from(offered.join(ringing, true()))


def _values(agent: Agent, now: datetime) -> dict[str, Any]:
    return {"offer_agent": agent.id, "offer_now": now, "offer_skills": sorted(agent.skills),
            "offer_languages": sorted(agent.languages)}  # fmt: skip


def offer_in_one(session: Session, agent: Agent, now: datetime, move: OfferMove) -> Row[Any] | None:
    """PostgreSQL: the offer as one statement; its row holds ``entry_*`` and ``agent_*``."""
    return session.connection().execute(one_statement(move), _values(agent, now)).first()


@cache
def _steps(move: OfferMove) -> tuple[Any, Any, Any]:
    entry_id = bindparam("offer_entry", type_=Integer())
    return _pick(move), _ring(move, entry_id), _offer(move, entry_id)


def offer_in_steps(
    session: Session, agent: Agent, now: datetime, move: OfferMove
) -> tuple[Row[Any], Row[Any]] | None:
    """Any database: the pick, then each row's compare-and-set (agent, entry)."""
    pick, ring, offer = _steps(move)
    conn, values = session.connection(), _values(agent, now)
    picked = conn.execute(pick, values).scalar()
    if picked is None:
        return None
    values["offer_entry"] = picked
    ringing = conn.execute(ring, values).first()
    if ringing is None:
        return None
    offered = conn.execute(offer, values).first()
    return None if offered is None else (offered, ringing)
