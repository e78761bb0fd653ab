"""SQLAlchemy implementations of the contact center's ports (ivr.services.contact_ports).

Locks: ``lock*`` use ``SELECT ... FOR UPDATE`` (``SKIP LOCKED`` where a dispatcher picks
among rows); SQLAlchemy renders nothing for SQLite, where the unit of work's writer lock
and the compare-and-set updates (``change(..., expect=...)``) do the job. Every read
refreshes the row (``populate_existing``) so a row updated in SQL is never seen stale.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, or_, select, text, update
from sqlalchemy.orm import Session

from ivr.center import lifecycle as lc
from ivr.services import contact_ports as cp
from ivr.services.caller_numbers import e164
from ivr.store import models as m
from ivr.store.lockout_queries import failures_after_success, same_caller

Q = m.QueueEntryRow
_ORDER = (Q.priority.desc(), Q.enqueued_at, Q.id)
_ENDED = cp.ENDED_ENTRY_STATES
_HELD = tuple(sorted(lc.HELD))
#: ``pg_try_advisory_xact_lock``'s key for the reaper (any constant all processes share).
REAPER_LOCK_KEY = 0x1F0_4EA9


def _agent(row: m.AgentRow) -> cp.Agent:
    return cp.Agent(
        id=row.id,
        username=row.username,
        name=row.name,
        role=row.role,
        skills=frozenset(row.skills),
        languages=frozenset(row.languages),
        endpoint=row.endpoint,
        state=row.state,
        state_since=row.state_since,
        wrap_up_until=row.wrap_up_until,
        entry_id=row.entry_id,
    )


def _entry(row: m.QueueEntryRow) -> cp.Entry:
    return cp.Entry(
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


def _callback(row: m.CallbackRow) -> cp.Callback:
    return cp.Callback(
        id=row.id,
        entry_id=row.entry_id,
        number=row.number,
        reason=row.reason,
        language=row.language,
        account_number=row.account_number,
        queue=row.queue,
        created_at=row.created_at,
        expires_at=row.expires_at,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        state=row.state,
        last_attempt_at=row.last_attempt_at,
        used_at=row.used_at,
        call_id=row.call_id,
    )


class _Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _change(self, model: Any, row_id: int, expect: tuple[str, ...] | None, values: Any) -> bool:
        query = update(model).where(model.id == row_id)
        if expect is not None:
            query = query.where(model.state.in_(expect))
        result = self.session.execute(query.values(**values).execution_options(
            synchronize_session=False
        ))  # fmt: skip
        return bool(getattr(result, "rowcount", 0) == 1)


class SqlAgents(_Repository, cp.Agents):
    """Agents; skills and languages are JSON lists on the row (see ``m.AgentRow``)."""

    def _one(self, query: Select[Any]) -> cp.Agent | None:
        row = self.session.scalars(query.execution_options(populate_existing=True)).first()
        return None if row is None else _agent(row)

    def get(self, agent_id: int) -> cp.Agent | None:
        return self._one(select(m.AgentRow).where(m.AgentRow.id == agent_id))

    def by_username(self, username: str) -> tuple[cp.Agent, str] | None:
        row = self.session.scalars(
            select(m.AgentRow)
            .where(m.AgentRow.username == username)
            .execution_options(populate_existing=True)
        ).first()
        return None if row is None else (_agent(row), row.password_hash)

    def all(self) -> list[cp.Agent]:
        rows = self.session.scalars(
            select(m.AgentRow)
            .order_by(m.AgentRow.username)
            .execution_options(populate_existing=True)
        )
        return [_agent(row) for row in rows]

    def lock_free(self, now: datetime, exclude: frozenset[int], limit: int) -> list[cp.Agent]:
        query = (
            select(m.AgentRow)
            .where(_free(now))
            .order_by(m.AgentRow.state_since, m.AgentRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        if exclude:
            query = query.where(m.AgentRow.id.not_in(exclude))
        return [_agent(row) for row in self.session.scalars(query)]

    def lock(self, agent_id: int, skip_locked: bool = False) -> cp.Agent | None:
        query = select(m.AgentRow).where(m.AgentRow.id == agent_id)
        return self._one(query.with_for_update(skip_locked=skip_locked))

    def take(self, agent_id: int, now: datetime, entry_id: int | None = None) -> bool:
        values: dict[str, Any] = {"state": cp.RINGING, "state_since": now, "wrap_up_until": None}
        if entry_id is not None:
            values["entry_id"] = entry_id
        result = self.session.execute(
            update(m.AgentRow)
            .where(m.AgentRow.id == agent_id, _free(now))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    def set_state(
        self,
        agent_id: int,
        state: str,
        since: datetime,
        wrap_up_until: datetime | None = None,
        expect: tuple[str, ...] | None = None,
    ) -> bool:
        values = {"state": state, "state_since": since, "wrap_up_until": wrap_up_until}
        return self._change(m.AgentRow, agent_id, expect, values)

    def add(
        self,
        username: str,
        name: str,
        password_hash: str,
        role: str,
        skills: frozenset[str],
        languages: frozenset[str],
        endpoint: str,
        now: datetime,
    ) -> cp.Agent:
        row = m.AgentRow(
            username=username,
            name=name,
            password_hash=password_hash,
            role=role,
            skills=sorted(skills),
            languages=sorted(languages),
            endpoint=endpoint,
            state=cp.OFFLINE,
            state_since=now,
        )
        self.session.add(row)
        self.session.flush()
        return _agent(row)


def _free(now: datetime) -> Any:
    """Available, or a wrap-up that has run out."""
    return or_(
        m.AgentRow.state == cp.AVAILABLE,
        (m.AgentRow.state == cp.WRAP_UP) & (m.AgentRow.wrap_up_until <= now),
    )


class SqlQueueEntries(_Repository, cp.QueueEntries):
    def _many(self, query: Select[Any]) -> list[cp.Entry]:
        rows = self.session.scalars(query.execution_options(populate_existing=True))
        return [_entry(row) for row in rows]

    def add(
        self,
        call: cp.WaitingCall,
        now: datetime,
        lease_until: datetime | None = None,
        held_by: str | None = None,
    ) -> cp.Entry:
        row = m.QueueEntryRow(
            lease_until=lease_until,
            held_by=held_by,
            kind=cp.CALL,
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
            state=cp.WAITING,
        )
        self.session.add(row)
        self.session.flush()
        return _entry(row)

    def renew(self, entry_id: int, until: datetime) -> bool:
        result = self.session.execute(
            update(Q)
            .where(Q.id == entry_id, Q.state.in_(_HELD), Q.lease_until.is_not(None))
            .values(lease_until=case((Q.lease_until > until, Q.lease_until), else_=until))
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    def lock_lapsed(self, states: tuple[str, ...], now: datetime, limit: int) -> list[cp.Entry]:
        return self._many(
            select(Q)
            .where(Q.state.in_(states), Q.lease_until.is_not(None), Q.lease_until < now)
            .order_by(Q.lease_until, Q.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )

    def lock_rung_out(self, before: datetime, limit: int) -> list[cp.Entry]:
        return self._many(
            select(Q)
            .where(Q.state == cp.OFFERED, Q.kind == cp.CALL, Q.offered_at <= before)
            .order_by(Q.offered_at, Q.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )

    def reaper_lock(self) -> bool:
        if self.session.get_bind().dialect.name != "postgresql":
            return True
        query = text("SELECT pg_try_advisory_xact_lock(:key)")
        return bool(self.session.scalar(query, {"key": REAPER_LOCK_KEY}))

    def get(self, entry_id: int) -> cp.Entry | None:
        found = self._many(select(Q).where(Q.id == entry_id))
        return found[0] if found else None

    def lock(self, entry_id: int) -> cp.Entry | None:
        found = self._many(select(Q).where(Q.id == entry_id).with_for_update())
        return found[0] if found else None

    def lock_best(
        self, skills: frozenset[str], languages: frozenset[str], now: datetime
    ) -> cp.Entry | None:
        if not skills or not languages:
            return None
        found = self._many(
            select(Q)
            .where(
                Q.state == cp.WAITING,
                Q.skill.in_(sorted(skills)),
                Q.language.in_(sorted(languages)),
                or_(Q.not_before.is_(None), Q.not_before <= now),
                or_(Q.expires_at.is_(None), Q.expires_at > now),
                or_(Q.lease_until.is_(None), Q.lease_until > now),  # its holder is alive
            )
            .order_by(*_ORDER)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return found[0] if found else None

    def change(self, entry_id: int, expect: tuple[str, ...] | None = None, **values: Any) -> bool:
        if "caller_id" in values:
            values["caller_e164"] = e164(values["caller_id"])
        return self._change(Q, entry_id, expect, values)

    def active(self) -> list[cp.Entry]:
        return self._many(select(Q).where(Q.state.in_(_HELD)).order_by(*_ORDER))

    def ahead_of(self, entry: cp.Entry, now: datetime) -> int:
        earlier = or_(
            Q.priority > entry.priority,
            (Q.priority == entry.priority) & (Q.enqueued_at < entry.enqueued_at),
            (Q.priority == entry.priority)
            & (Q.enqueued_at == entry.enqueued_at)
            & (Q.id < entry.id),
        )
        query = select(func.count()).where(
            Q.state == cp.WAITING,
            Q.queue == entry.queue,
            Q.id != entry.id,
            or_(Q.not_before.is_(None), Q.not_before <= now),
            earlier,
        )
        return self.session.scalar(query) or 0

    def offered_callbacks(self) -> list[cp.Entry]:
        return self._many(
            select(Q).where(Q.state == cp.OFFERED, Q.kind == cp.CALLBACK).order_by(*_ORDER)
        )

    def talk_times(self, queue: str, since: datetime, limit: int) -> list[int]:
        rows = self.session.scalars(
            select(Q.talk_seconds)
            .where(
                Q.queue == queue,
                Q.state == cp.DONE,
                Q.ended_at >= since,
                Q.talk_seconds.is_not(None),
            )
            .order_by(Q.ended_at.desc(), Q.id.desc())
            .limit(limit)
        )
        return [int(seconds) for seconds in rows if seconds is not None]

    def ended_since(self, since: datetime) -> list[cp.Entry]:
        return self._many(select(Q).where(Q.state.in_(_ENDED), Q.ended_at >= since))

    def expire_callbacks(self, now: datetime) -> list[int]:
        expired = self._many(
            select(Q)
            .where(Q.state == cp.WAITING, Q.kind == cp.CALLBACK, Q.expires_at <= now)
            .with_for_update(skip_locked=True)
        )
        ids = []
        for entry in expired:
            if entry.callback_id is None:
                continue
            self.change(entry.id, expect=(cp.WAITING,), state=cp.EXPIRED, ended_at=now)
            self._change(
                m.CallbackRow, entry.callback_id, (cp.CB_WAITING,), {"state": cp.CB_EXPIRED}
            )
            ids.append(entry.callback_id)
        return ids


class SqlCallbacks(_Repository, cp.Callbacks):
    def _one(self, query: Select[Any]) -> cp.Callback | None:
        row = self.session.scalars(query.execution_options(populate_existing=True)).first()
        return None if row is None else _callback(row)

    def add(
        self,
        entry: cp.Entry,
        number: str,
        code_salt: str,
        code_hash: str,
        now: datetime,
        expires_at: datetime,
        max_attempts: int,
    ) -> cp.Callback:
        row = m.CallbackRow(
            entry_id=entry.id,
            number=number,
            reason=entry.reason,
            language=entry.language,
            account_number=entry.account_number,
            queue=entry.queue,
            code_salt=code_salt,
            code_hash=code_hash,
            created_at=now,
            expires_at=expires_at,
            attempts=0,
            max_attempts=max_attempts,
            state=cp.CB_WAITING,
        )
        self.session.add(row)
        self.session.flush()
        return _callback(row)

    def get(self, callback_id: int) -> cp.Callback | None:
        return self._one(select(m.CallbackRow).where(m.CallbackRow.id == callback_id))

    def lock(self, callback_id: int) -> cp.Callback | None:
        return self._one(
            select(m.CallbackRow).where(m.CallbackRow.id == callback_id).with_for_update()
        )

    def salt(self, callback_id: int) -> str | None:
        return self.session.scalar(
            select(m.CallbackRow.code_salt).where(m.CallbackRow.id == callback_id)
        )

    def code_in_use(self, code_hash: str) -> bool:
        found = self.session.scalar(
            select(func.count()).where(
                m.CallbackRow.code_hash == code_hash,
                m.CallbackRow.state.in_(cp.ACTIVE_CALLBACK_STATES),
            )
        )
        return bool(found)

    def by_code(self, code_hash: str) -> cp.Callback | None:
        active = m.CallbackRow.state.in_(cp.ACTIVE_CALLBACK_STATES)
        return self._one(
            select(m.CallbackRow)
            .where(m.CallbackRow.code_hash == code_hash)
            .order_by(active.desc(), m.CallbackRow.id.desc())
            .limit(1)
        )

    def change(
        self, callback_id: int, expect: tuple[str, ...] | None = None, **values: Any
    ) -> bool:
        return self._change(m.CallbackRow, callback_id, expect, values)

    def recent(self, limit: int) -> list[cp.Callback]:
        row = m.CallbackRow
        active = row.state.in_(cp.ACTIVE_CALLBACK_STATES)
        rows = self.session.scalars(
            select(row).order_by(active.desc(), row.id).execution_options(populate_existing=True)
        )
        found = [_callback(r) for r in rows]
        live = [c for c in found if c.state in cp.ACTIVE_CALLBACK_STATES]
        ended = sorted((c for c in found if c not in live), key=lambda c: -c.id)
        return (live + ended)[:limit]

    def pending_by_queue(self) -> dict[str, int]:
        rows = self.session.execute(
            select(m.CallbackRow.queue, func.count())
            .where(m.CallbackRow.state.in_(lc.PENDING_CALLBACK_STATES))
            .group_by(m.CallbackRow.queue)
        )
        return {queue: int(count) for queue, count in rows}


class SqlAgentNotes(_Repository, cp.AgentNotes):
    def _note(self, row: m.AgentNoteRow) -> cp.Note:
        name = self.session.scalar(select(m.AgentRow.name).where(m.AgentRow.id == row.agent_id))
        return cp.Note(
            row.at, name or "?", row.call_id, row.disposition, row.text, row.account_number
        )

    def add(
        self, agent_id: int, entry: cp.Entry, disposition: str, text: str, at: datetime
    ) -> cp.Note:
        row = m.AgentNoteRow(
            agent_id=agent_id,
            entry_id=entry.id,
            call_id=entry.call_id,
            caller_id=entry.caller_id,
            caller_e164=e164(entry.caller_id),
            account_number=entry.account_number,
            disposition=disposition,
            text=text,
            at=at,
        )
        self.session.add(row)
        self.session.flush()
        return self._note(row)

    def about(self, account_number: str | None, caller_id: str, limit: int) -> list[cp.Note]:
        note = m.AgentNoteRow
        if account_number:
            which = note.account_number == account_number
        elif caller_id:
            which = same_caller(note.caller_id, note.caller_e164, caller_id)
        else:
            return []
        rows = self.session.scalars(
            select(note).where(which).order_by(note.at.desc(), note.id.desc()).limit(limit)
        )
        return [self._note(row) for row in rows]

    def for_entry(self, entry_id: int) -> cp.Note | None:
        row = self.session.scalars(
            select(m.AgentNoteRow).where(m.AgentNoteRow.entry_id == entry_id)
        ).first()
        return None if row is None else self._note(row)


class SqlCodeAttempts(_Repository, cp.CodeAttempts):
    def record(self, caller_id: str, call_id: str, at: datetime, ok: bool) -> None:
        self.session.add(
            m.CodeAttemptRow(
                caller_id=caller_id,
                caller_e164=e164(caller_id),
                call_id=call_id,
                at=at,
                succeeded=ok,
            )
        )
        self.session.flush()

    def failures_since(self, caller_id: str, since: datetime) -> list[datetime]:
        row = m.CodeAttemptRow
        whose = same_caller(row.caller_id, row.caller_e164, caller_id)
        return failures_after_success(self.session, row, whose, since)
