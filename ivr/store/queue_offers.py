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

The pick reads, for each skill and language pair of the agent, the first
``CANDIDATES`` waiting entries of that pair from ``ix_queue_entries_claim`` (state,
skill, language, priority DESC, enqueued_at, id: a short range already in order), and
locks the best of them nobody else has locked (``SKIP LOCKED``), so fifty agents
claiming at once each get a different entry without waiting for each other, and an
agent of a low-priority skill no longer walks past every better entry of the skills
they lack (7,500 rows for 10,000 waiting, 7 ms). If every candidate is locked by
other claims (or nothing waits), the same statement runs once more with the pick
walking every waiting entry in order (``ix_queue_entries_dispatch``): nobody is left
waiting who could be taken. The ``ringing`` and ``offered`` updates are compare-and-sets
(the agent still free, the entry still waiting): a row with nothing in it changed
nothing the caller keeps (it rolls back). Other databases (SQLite, whose writer lock
already serialises the claims) take the same steps as three statements. Each statement
is built once per move and shape (its values are bound parameters): building one costs
more than running it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    String,
    Table,
    and_,
    bindparam,
    exists,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union_all,
    update,
)  # fmt: skip
from sqlalchemy.orm import Session, aliased

from ivr.center import lifecycle as lc
from ivr.services.contact_agents import Agent
from ivr.services.contact_ports import OfferMove
from ivr.store import models as m
from ivr.store.base import UtcDateTime
from ivr.store.built_once import built_once

Q, A = m.QueueEntryRow, m.AgentRow
ENTRIES: Table = m.QueueEntryRow.__table__  # type: ignore[assignment]
AGENTS: Table = m.AgentRow.__table__  # type: ignore[assignment]
ORDER = (Q.priority.desc(), Q.enqueued_at, Q.id)
#: Entries read per skill and language pair before the best unlocked one is taken: more
#: than the agents who claim from one pair at once, so the walk of every waiting entry
#: (``one_statement(move, None)``) is rarely needed. When more claims than that hold a
#: pair's candidates at once, the pick is refused (``past_a_full_pair``) and the walk
#: runs: the pick is never worse than the best entry nobody holds.
CANDIDATES = 16
#: A pair's last candidate (the ``CANDIDATES``-th): ``past_a_full_pair`` compares with it.
LAST = aliased(m.QueueEntryRow, name="last")


class Columns:
    """One side (``entry_`` or ``agent_``) of a row holding both, read by column name."""

    def __init__(self, row: Row[Any] | Mapping[str, Any], prefix: str) -> None:
        self._row = row._mapping if isinstance(row, Row) else row
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return self._row[self._prefix + name]


NOW = bindparam("offer_now", type_=UtcDateTime())
AGENT_ID = bindparam("offer_agent", type_=Integer())
SKILLS = bindparam("offer_skills", expanding=True, type_=String())
LANGUAGES = bindparam("offer_languages", expanding=True, type_=String())


def one_of(column: Any, states: Sequence[str]) -> ColumnElement[bool]:
    """``column IN (...)`` with ``states`` written into the SQL: the lifecycle's own
    names, fixed per statement, so no list parameter is expanded at each run."""
    if not all(state.isidentifier() for state in states):
        raise ValueError(f"not a state name: {states!r}")
    found: ColumnElement[bool] = column.in_(
        [literal_column(f"'{state}'", String()) for state in states]
    )
    return found


def _eligible(states: Sequence[str]) -> list[ColumnElement[bool]]:
    """An entry the agent (``SKILLS``, ``LANGUAGES``) may be offered at ``NOW``."""
    return [one_of(Q.state, states), Q.skill.in_(SKILLS), Q.language.in_(LANGUAGES), *due()]


def due(q: Any = Q) -> list[ColumnElement[bool]]:
    """An entry (of ``q``, the table or an alias of it) that may be offered at ``NOW``,
    whoever takes it."""
    return [
        or_(q.not_before.is_(None), q.not_before <= NOW),
        or_(q.expires_at.is_(None), q.expires_at > NOW),
        or_(q.lease_until.is_(None), q.lease_until > NOW),  # its holder is alive
    ]


def agent_free(states: Sequence[str]) -> ColumnElement[bool]:
    """An agent who may be offered a call at ``NOW``: in one of ``states``, available or
    in a wrap-up that has run out, not disabled."""
    return (
        one_of(A.state, states)
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


def _pick_near(move: OfferMove, shape: tuple[int, int]) -> Select[Any]:
    """``_pick`` among the first ``CANDIDATES`` entries of each of the agent's skill and
    language pairs (``shape``: how many skills, how many languages; the values are the
    ``offer_skill_<i>`` and ``offer_language_<j>`` parameters): each pair is one short
    range of ``ix_queue_entries_claim``, already in order, instead of a walk through
    every better entry of the skills the agent does not have."""
    skills, languages = shape
    near = union_all(*(
        select(Q.id)
        .where(one_of(Q.state, move.entry_from),
               Q.skill == bindparam(f"offer_skill_{i}", type_=String()),
               Q.language == bindparam(f"offer_language_{j}", type_=String()), *due())
        .order_by(*ORDER)
        .limit(CANDIDATES)
        for i in range(skills) for j in range(languages)
    ))  # fmt: skip
    lasts = [
        select(LAST.priority, LAST.enqueued_at, LAST.id)
        .where(one_of(LAST.state, move.entry_from),
               LAST.skill == bindparam(f"offer_skill_{i}", type_=String()),
               LAST.language == bindparam(f"offer_language_{j}", type_=String()), *due(LAST))
        .order_by(LAST.priority.desc(), LAST.enqueued_at, LAST.id)
        .offset(CANDIDATES - 1)
        .limit(1)
        .subquery(f"last_{i}_{j}")
        for i in range(skills) for j in range(languages)
    ]  # fmt: skip
    return _pick(move).where(Q.id.in_(near), *(~past_a_full_pair(Q, last) for last in lasts))


def sorts_before(a: Any, b: Any) -> ColumnElement[bool]:
    """Entry ``a`` (anything with ``priority``, ``enqueued_at`` and ``id``) comes before
    ``b`` in the line (``ORDER``)."""
    return or_(
        a.priority > b.priority,
        and_(a.priority == b.priority, tuple_(a.enqueued_at, a.id) < tuple_(b.enqueued_at, b.id)),
    )


def past_a_full_pair(q: Any, last: Any) -> ColumnElement[bool]:
    """Entry ``q`` comes after ``last``, a pair's last candidate (a subquery of at most one
    row: none when the pair has fewer candidates). Then all of that pair's candidates come
    before ``q``; a pick that still lands on ``q`` found every one of them held by other
    claims, and an entry past them, which nobody read, may come before ``q`` too: the
    pick is refused and the walk of the whole line decides."""
    return exists(select(last.c.id).where(sorts_before(last.c, q)))


def ring(move: OfferMove, entry_id: Any) -> Any:
    return (
        update(AGENTS)
        .where(AGENTS.c.id == AGENT_ID, agent_free(move.agent_from))
        .values(
            state=move.agent_to,
            state_since=NOW,
            wrap_up_until=None,
            pause_reason=None,
            entry_id=entry_id,
        )  # fmt: skip
        .returning(*AGENTS.c)
    )


def offer(move: OfferMove, entry_id: Any) -> Any:
    return (
        update(ENTRIES)
        .where(ENTRIES.c.id == entry_id, one_of(ENTRIES.c.state, move.entry_from))
        .values(state=move.entry_to, agent_id=AGENT_ID, offered_at=NOW)
        .returning(*ENTRIES.c)
    )


@built_once
def one_statement(move: OfferMove, shape: tuple[int, int] | None) -> Select[Any]:
    """The offer on PostgreSQL, built once per move and shape (see ``_pick_near``; None:
    a walk through every waiting entry); its row holds ``entry_*`` and ``agent_*``."""
    picked = (_pick(move) if shape is None else _pick_near(move, shape)).cte("picked")
    ringing = (
        ring(move, select(picked.c.id).scalar_subquery())
        .where(exists(picked.select()))
        .cte("ringing")
    )
    offered = offer(move, ringing.c.entry_id).cte("offered")
    return select(
        *(c.label(f"entry_{c.name}") for c in offered.c),
        *(c.label(f"agent_{c.name}") for c in ringing.c),
    ).select_from(offered.join(ringing, true()))


def _values(agent: Agent, now: datetime) -> dict[str, Any]:
    skills, languages = sorted(agent.skills), sorted(agent.languages)
    values = {"offer_agent": agent.id, "offer_now": now, "offer_skills": skills,
              "offer_languages": languages}  # fmt: skip
    values.update({f"offer_skill_{i}": skill for i, skill in enumerate(skills)})
    values.update({f"offer_language_{j}": language for j, language in enumerate(languages)})
    return values


def offer_in_one(session: Session, agent: Agent, now: datetime, move: OfferMove) -> Row[Any] | None:
    """PostgreSQL: the offer as one statement, among the first entries of each of the
    agent's pairs; if every one of those is locked by other claims (or nothing waits),
    once more through every waiting entry. Its row holds ``entry_*`` and ``agent_*``."""
    conn, values = session.connection(), _values(agent, now)
    shape = (len(agent.skills), len(agent.languages))
    near = conn.execute(one_statement(move, shape), values).first()
    return near or conn.execute(one_statement(move, None), values).first()


@built_once
def _steps(move: OfferMove) -> tuple[Any, Any, Any]:
    entry_id = bindparam("offer_entry", type_=Integer())
    return _pick(move), ring(move, entry_id), offer(move, entry_id)


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
