"""The queue's entries in SQL (``ivr.services.contact_ports.QueueEntries``); see
``ivr.store.sql_repository`` for locks and compare-and-set."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, case, func, or_, select, text, update

from ivr.center import lifecycle as lc
from ivr.services import contact_ports as cp
from ivr.services.caller_numbers import e164
from ivr.services.contact_agents import Agent
from ivr.services.contact_entries import Entry, WaitingCall
from ivr.store import models as m
from ivr.store import queue_offers as offers
from ivr.store.agents import agent_of
from ivr.store.sql_repository import SqlRepository

Q = m.QueueEntryRow
_ORDER = (Q.priority.desc(), Q.enqueued_at, Q.id)
_ENDED = lc.ENDED_ENTRY_STATES
_HELD = tuple(sorted(lc.HELD))
#: One entry by id, as a plain row (always fresh), built once: every move reads one.
_GET = select(*offers.ENTRIES.c).where(offers.ENTRIES.c.id == bindparam("entry_id"))
_LOCK = _GET.with_for_update()
#: ``pg_try_advisory_xact_lock``'s key for the reaper (any constant all processes share).
REAPER_LOCK_KEY = 0x1F0_4EA9


def entry_of_row(row: m.QueueEntryRow | Any) -> Entry:
    """The entry of a row (an ORM row, or any object with the columns as attributes)."""
    return Entry(
        id=row.id,
        kind=row.kind,
        call_id=row.call_id,
        queue=row.queue,
        priority=row.priority,
        skill=row.skill,
        language=row.language,
        caller_id=row.caller_id,
        account_number=row.account_number,
        reason=row.reason,
        path=tuple(row.path),
        enqueued_at=row.enqueued_at,
        state=row.state,
        agent_id=row.agent_id,
        callback_id=row.callback_id,
        not_before=row.not_before,
        wait_seconds=row.wait_seconds,
        talk_seconds=row.talk_seconds,
        ended_at=row.ended_at,
        answered_at=row.answered_at,
        expires_at=row.expires_at,
        lease_until=row.lease_until,
        held_by=row.held_by,
        offered_at=row.offered_at,
    )


class SqlQueueEntries(SqlRepository, cp.QueueEntries):
    def _many(self, query: Select[Any]) -> list[Entry]:
        rows = self.session.scalars(query.execution_options(populate_existing=True))
        return [entry_of_row(row) for row in rows]

    def _by_id(self, query: Select[Any], entry_id: int) -> Entry | None:
        row = self.session.execute(query, {"entry_id": entry_id}).first()
        return None if row is None else entry_of_row(row)

    def add(
        self,
        call: WaitingCall,
        now: datetime,
        lease_until: datetime | None = None,
        held_by: str | None = None,
    ) -> Entry:
        row = m.QueueEntryRow(
            lease_until=lease_until,
            held_by=held_by,
            kind=lc.CALL,
            call_id=call.call_id,
            queue=call.queue,
            priority=call.priority,
            skill=call.skill,
            language=call.language,
            caller_id=call.caller_id,
            caller_e164=e164(call.caller_id),
            account_number=call.account_number,
            reason=call.reason,
            path=list(call.path),
            enqueued_at=now,
            state=lc.WAITING,
        )
        self.session.add(row)
        self.session.flush()
        return entry_of_row(row)

    def renew(self, entry_id: int, until: datetime) -> bool:
        result = self.session.execute(
            update(Q)
            .where(Q.id == entry_id, Q.state.in_(_HELD), Q.lease_until.is_not(None))
            .values(lease_until=case((Q.lease_until > until, Q.lease_until), else_=until))
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    def lock_lapsed(self, states: tuple[str, ...], now: datetime, limit: int) -> list[Entry]:
        return self._many(
            select(Q)
            .where(Q.state.in_(states), Q.lease_until.is_not(None), Q.lease_until < now)
            .order_by(Q.lease_until, Q.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )

    def lock_rung_out(self, before: datetime, limit: int) -> list[Entry]:
        return self._many(
            select(Q)
            .where(Q.state == lc.OFFERED, Q.kind == lc.CALL, Q.offered_at <= before)
            .order_by(Q.offered_at, Q.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )

    def reaper_lock(self) -> bool:
        if self.session.get_bind().dialect.name != "postgresql":
            return True
        query = text("SELECT pg_try_advisory_xact_lock(:key)")
        return bool(self.session.scalar(query, {"key": REAPER_LOCK_KEY}))

    def get(self, entry_id: int) -> Entry | None:
        return self._by_id(_GET, entry_id)

    def lock(self, entry_id: int) -> Entry | None:
        return self._by_id(_LOCK, entry_id)

    def offer_best(
        self, agent: Agent, now: datetime, move: cp.OfferMove
    ) -> tuple[Entry, Agent] | None:
        if not agent.skills or not agent.languages:
            return None
        if self.session.get_bind().dialect.name == "postgresql":
            row = offers.offer_in_one(self.session, agent, now, move)
            if row is None:
                return None
            entry, agent_row = offers.Columns(row, "entry_"), offers.Columns(row, "agent_")
            return entry_of_row(entry), agent_of(agent_row)
        both = offers.offer_in_steps(self.session, agent, now, move)
        return None if both is None else (entry_of_row(both[0]), agent_of(both[1]))

    def change(self, entry_id: int, expect: tuple[str, ...] | None = None, **values: Any) -> bool:
        if "caller_id" in values:
            values["caller_e164"] = e164(values["caller_id"])
        return self._change(Q, entry_id, expect, values)

    def active(self) -> list[Entry]:
        return self._many(select(Q).where(Q.state.in_(_HELD)).order_by(*_ORDER))

    def ahead_of(self, entry: Entry, now: datetime) -> int:
        earlier = or_(
            Q.priority > entry.priority,
            (Q.priority == entry.priority) & (Q.enqueued_at < entry.enqueued_at),
            (Q.priority == entry.priority)
            & (Q.enqueued_at == entry.enqueued_at)
            & (Q.id < entry.id),
        )
        query = select(func.count()).where(
            Q.state == lc.WAITING,
            Q.queue == entry.queue,
            Q.id != entry.id,
            or_(Q.not_before.is_(None), Q.not_before <= now),
            earlier,
        )
        return self.session.scalar(query) or 0

    def offered_callbacks(self) -> list[Entry]:
        return self._many(
            select(Q).where(Q.state == lc.OFFERED, Q.kind == lc.KIND_CALLBACK).order_by(*_ORDER)
        )

    def talk_times(self, queue: str, since: datetime, limit: int) -> list[int]:
        rows = self.session.scalars(
            select(Q.talk_seconds)
            .where(
                Q.queue == queue,
                Q.state == lc.DONE,
                Q.ended_at >= since,
                Q.talk_seconds.is_not(None),
            )
            .order_by(Q.ended_at.desc(), Q.id.desc())
            .limit(limit)
        )
        return [int(seconds) for seconds in rows if seconds is not None]

    def ended_since(self, since: datetime) -> list[Entry]:
        return self._many(select(Q).where(Q.state.in_(_ENDED), Q.ended_at >= since))

    def expire_callbacks(self, now: datetime) -> list[int]:
        expired = self._many(
            select(Q)
            .where(Q.state == lc.WAITING, Q.kind == lc.KIND_CALLBACK, Q.expires_at <= now)
            .with_for_update(skip_locked=True)
        )
        ids = []
        for entry in expired:
            if entry.callback_id is None:
                continue
            self.change(entry.id, expect=(lc.WAITING,), state=lc.EXPIRED, ended_at=now)
            self._change(
                m.CallbackRow, entry.callback_id, (lc.CB_WAITING,), {"state": lc.CB_EXPIRED}
            )
            ids.append(entry.callback_id)
        return ids
