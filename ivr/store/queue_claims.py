"""An agent's claim as one statement on PostgreSQL, in a transaction of its own
(``SqlOneStatementMoves.claim``): the agent row locked first (the lock order everywhere:
agent, entry, callback) if the agent is free, the offer of ``ivr.store.queue_offers``
with the skills and languages read from that row, and the ``queue_offered`` audit row::

    WITH me AS (SELECT id, skills, languages FROM agents WHERE id = :agent AND <free>
                FOR UPDATE),
         picked AS (SELECT id FROM queue_entries WHERE <waiting, due>
                    AND id IN (<the first CANDIDATES of each of me's skill and language
                               pairs>)
                    ORDER BY priority DESC, enqueued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED),
         ringing AS (UPDATE agents ... WHERE id = (SELECT id FROM me)
                     RETURNING agents.id AS agent_id, ...),
         offered AS (UPDATE queue_entries AS e ... RETURNING e.id AS entry_id, ...),
         audit AS (INSERT INTO audit_log ... SELECT ... FROM offered, ringing)
    SELECT offered.*, ringing.* FROM offered, ringing

One round trip instead of five (BEGIN, the agent's lock, the offer, the audit row,
COMMIT). As in ``queue_offers``, when every candidate is locked by other claims, or
other claims hold all of one pair's candidates and the pick would come after them (or
nothing waits), the same statement runs once more with the pick walking every waiting
entry of the agent's skills and languages (``walk``). A row with nothing in it changed
nothing: the agent was not free, or nobody waits whom they can take. The statement is
kept under 4 KiB (aliases, only the columns ``Entry`` and ``Agent`` need): psycopg parses
a longer one anew at each run.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Table,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    true,
    update,
)  # fmt: skip
from sqlalchemy.orm import aliased

from ivr.services.contact_agents import Agent
from ivr.services.contact_entries import Entry
from ivr.services.contact_ports import OfferMove
from ivr.store import models as m
from ivr.store import queue_offers as offers
from ivr.store.built_once import built_once

A = m.AgentRow
#: The entries the pick reads and locks, and those each skill and language pair offers
#: (short aliases: every name counts, see ``ENTRY``).
Q, N = aliased(m.QueueEntryRow, name="q"), aliased(m.QueueEntryRow, name="n")
#: Each pair's last candidate: a pick past it is refused (``queue_offers.past_a_full_pair``).
L = aliased(m.QueueEntryRow, name="l")
E: Any = offers.ENTRIES.alias("e")
AUDIT: Table = m.AuditRow.__table__  # type: ignore[assignment]
#: The columns the claim returns: what ``Entry`` and ``Agent`` are made of (the statement
#: stays under psycopg's 4 KiB of cached query text: longer ones are parsed at each run).
ENTRY = frozenset(f.name for f in fields(Entry))
AGENT = frozenset(f.name for f in fields(Agent)) - {"disabled"} | {"disabled_at"}
#: The audit row's action and actor, as ``SqlAuditLog.record`` writes them.
ACTION, ACTOR = "queue_offered", "ivr"


def _within(move: OfferMove, me: Any, walk: bool) -> ColumnElement[bool]:
    """The entries ``me`` may take: the first ``CANDIDATES`` of each of their skill and
    language pairs (each a short range of ``ix_queue_entries_claim``), but none that comes
    after a pair's last candidate (then other claims held all of that pair's candidates,
    and an entry past them may be better: the walk decides, ``past_a_full_pair``); or
    (``walk``) every one of their skills and languages."""
    skill = func.json_array_elements_text(me.c.skills).table_valued("value", name="skill")
    language = func.json_array_elements_text(me.c.languages).table_valued(
        "value", name="language"
    )  # fmt: skip
    if walk:
        return Q.skill.in_(select(skill.c.value).select_from(me).join(skill, true())) & (
            Q.language.in_(select(language.c.value).select_from(me).join(language, true()))
        )
    pairs = (
        select(skill.c.value.label("skill"), language.c.value.label("language"))
        .select_from(me)
        .join(skill, true())
        .join(language, true())
        .cte("pairs")
    )
    # Waiting, due or not (``Q`` checks that): the candidates and the last of them are
    # the same rows for the pick and for the check, and the statement stays short.
    near = (
        select(N.id)
        .where(
            offers.one_of(N.state, move.entry_from),
            N.skill == pairs.c.skill,
            N.language == pairs.c.language,
        )
        .order_by(N.priority.desc(), N.enqueued_at, N.id)
        .limit(offers.CANDIDATES)
        .lateral("near")
    )
    last = (
        select(L.priority, L.enqueued_at, L.id)
        .where(
            offers.one_of(L.state, move.entry_from),
            L.skill == pairs.c.skill,
            L.language == pairs.c.language,
        )
        .order_by(L.priority.desc(), L.enqueued_at, L.id)
        .offset(offers.CANDIDATES - 1)
        .limit(1)
        .lateral("last")
    )
    return Q.id.in_(select(near.c.id).select_from(pairs).join(near, true())) & ~exists(
        select(last.c.id)
        .select_from(pairs)
        .join(last, true())
        .where(offers.sorts_before(last.c, Q))
    )


@built_once
def claim_statement(move: OfferMove, walk: bool) -> Select[Any]:
    """The claim, built once per move (its values are the ``offer_agent`` and
    ``offer_now`` parameters); its row holds ``entry_*`` and ``agent_*``."""
    me = (
        select(A.id, A.skills, A.languages)
        .where(A.id == offers.AGENT_ID, offers.agent_free(move.agent_from))
        .with_for_update()
        .cte("me")
    )
    picked = (
        select(Q.id)
        .where(offers.one_of(Q.state, move.entry_from), *offers.due(Q), _within(move, me, walk))
        .order_by(Q.priority.desc(), Q.enqueued_at, Q.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .cte("picked")
    )
    ringing = (
        update(offers.AGENTS)
        .where(offers.AGENTS.c.id == select(me.c.id).scalar_subquery(), exists(picked.select()))
        .values(state=move.agent_to, state_since=offers.NOW, wrap_up_until=None,
                pause_reason=None, entry_id=select(picked.c.id).scalar_subquery())
        .returning(*(c.label(f"agent_{c.name}") for c in offers.AGENTS.c if c.name in AGENT))
        .cte("ringing")
    )  # fmt: skip
    offered = (
        update(E)
        .where(E.c.id == ringing.c.agent_entry_id, offers.one_of(E.c.state, move.entry_from))
        .values(state=move.entry_to, agent_id=offers.AGENT_ID, offered_at=offers.NOW)
        .returning(*(c.label(f"entry_{c.name}") for c in E.c if c.name in ENTRY))
        .cte("offered")
    )
    detail = func.json_build_object(
        literal_column("'entry'"), offered.c.entry_id, literal_column("'queue'"),
        offered.c.entry_queue, literal_column("'kind'"), offered.c.entry_kind,
        literal_column("'agent'"), ringing.c.agent_username,
    )  # fmt: skip
    audit = insert(AUDIT).from_select(
        ["at", "actor", "call_id", "account_number", "action", "detail"],
        select(
            offers.NOW, literal(ACTOR, String()), offered.c.entry_call_id,
            offered.c.entry_account_number,
            literal(ACTION, String()), detail,
        ).select_from(offered.join(ringing, true())),
    )  # fmt: skip
    both: Any = select(literal_column("offered.*"), literal_column("ringing.*"))
    return cast(
        "Select[Any]", both.select_from(offered.join(ringing, true())).add_cte(audit.cte("audit"))
    )
