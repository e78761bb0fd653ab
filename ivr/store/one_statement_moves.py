"""``OneStatementMoves`` on PostgreSQL: the claim (``queue_claims``) and the talk's moves
(``queue_talks``), each run alone (``SqlUnitOfWork.run_alone``: autocommit, one round
trip)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Executable

from ivr.services import contact_ports as cp
from ivr.services.contact_agents import Agent
from ivr.services.contact_entries import Entry
from ivr.store.agents import agent_of
from ivr.store.queue_claims import claim_statement
from ivr.store.queue_entries import entry_of_row
from ivr.store.queue_offers import Columns
from ivr.store.queue_talks import answer_statement, finish_statement

#: Runs one statement in a transaction of its own; the rows it returned.
RunAlone = Callable[[Executable, Mapping[str, Any]], Sequence[Mapping[str, Any]]]


class SqlOneStatementMoves(cp.OneStatementMoves):
    def __init__(self, run_alone: RunAlone) -> None:
        self.run_alone = run_alone

    def claim(self, agent_id: int, now: datetime, move: cp.OfferMove) -> tuple[Entry, Agent] | None:
        values = {"offer_agent": agent_id, "offer_now": now}
        rows = self.run_alone(claim_statement(move, False), values)
        if not rows:  # every candidate taken by other claims, or nothing (or not free)
            rows = self.run_alone(claim_statement(move, True), values)
        if not rows:
            return None
        return entry_of_row(Columns(rows[0], "entry_")), agent_of(Columns(rows[0], "agent_"))

    def answer(self, entry_id: int, now: datetime, move: cp.TalkMove) -> bool:
        values = {"talk_entry": entry_id, "talk_now": now}
        return bool(self.run_alone(answer_statement(move), values))

    def finish(
        self, entry_id: int, now: datetime, move: cp.TalkMove, wrap_up_until: datetime
    ) -> bool:
        values = {"talk_entry": entry_id, "talk_now": now, "talk_wrap_up_until": wrap_up_until}
        return bool(self.run_alone(finish_statement(move), values))
