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
         ringing AS (UPDATE agents ... RETURNING agents.*),
         offered AS (UPDATE queue_entries ... RETURNING queue_entries.*),
         audit AS (INSERT INTO audit_log ... SELECT ... FROM offered, ringing)
    SELECT offered.*, ringing.* FROM offered, ringing

One round trip instead of five (BEGIN, the agent's lock, the offer, the audit row,
COMMIT). As in ``queue_offers``, when every candidate is locked by other claims (or
nothing waits) the same statement runs once more with the pick walking every waiting
entry of the agent's skills and languages (``walk``). A row with nothing in it changed
nothing: the agent was not free, or nobody waits whom they can take.
"""

from __future__ import annotations

from functools import cache
from typing import Any

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
)  # fmt: skip

from ivr.services.contact_ports import OfferMove
from ivr.store import models as m
from ivr.store import queue_offers as offers

Q, A = m.QueueEntryRow, m.AgentRow
AUDIT: Table = m.AuditRow.__table__  # type: ignore[assignment]
#: The audit row's action and actor, as ``SqlAuditLog.record`` writes them.
ACTION, ACTOR = "queue_offered", "ivr"


def _within(move: OfferMove, me: Any, walk: bool) -> ColumnElement[bool]:
    """The entries ``me`` may take: the first ``CANDIDATES`` of each of their skill and
    language pairs (each a short range of ``ix_queue_entries_claim``), or (``walk``)
    every one of their skills and languages."""
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
        .subquery("pairs")
    )
    near = (
        select(Q.id)
        .where(
            offers.one_of(Q.state, move.entry_from),
            Q.skill == pairs.c.skill,
            Q.language == pairs.c.language,
            *offers.due(),
        )
        .order_by(*offers.ORDER)
        .limit(offers.CANDIDATES)
        .lateral("near")
    )
    return Q.id.in_(select(near.c.id).select_from(pairs).join(near, true()))


@cache
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
        .where(offers.one_of(Q.state, move.entry_from), *offers.due(), _within(move, me, walk))
        .order_by(*offers.ORDER)
        .limit(1)
        .with_for_update(skip_locked=True)
        .cte("picked")
    )
    ringing = (
        offers.ring(move, select(picked.c.id).scalar_subquery())
        .where(exists(picked.select()))
        .cte("ringing")
    )
    offered = offers.offer(move, ringing.c.entry_id).cte("offered")
    detail = func.json_build_object(
        literal_column("'entry'"), offered.c.id, literal_column("'queue'"), offered.c.queue,
        literal_column("'kind'"), offered.c.kind, literal_column("'agent'"), ringing.c.username,
    )  # fmt: skip
    audit = insert(AUDIT).from_select(
        ["at", "actor", "call_id", "account_number", "action", "detail"],
        select(
            offers.NOW, literal(ACTOR, String()), offered.c.call_id, offered.c.account_number,
            literal(ACTION, String()), detail,
        ).select_from(offered.join(ringing, true())),
    )  # fmt: skip
    return (
        select(
            *(c.label(f"entry_{c.name}") for c in offered.c),
            *(c.label(f"agent_{c.name}") for c in ringing.c),
        )
        .select_from(offered.join(ringing, true()))
        .add_cte(audit.cte("audit"))
    )
