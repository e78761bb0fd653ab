"""Agents and their notes on calls in SQL (``ivr.services.contact_ports``' ``Agents``
and ``AgentNotes``); see ``ivr.store.sql_repository`` for locks and compare-and-set."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, or_, select, update

from ivr.center import lifecycle as lc
from ivr.services import contact_ports as cp
from ivr.services.caller_numbers import e164
from ivr.services.contact_agents import Agent, Note
from ivr.services.contact_entries import Entry
from ivr.store import models as m
from ivr.store.lockout_queries import same_caller
from ivr.store.sql_repository import SqlRepository


def agent_of(row: m.AgentRow | Any) -> Agent:
    """The agent of a row (an ORM row, or any object with the columns as attributes)."""
    return Agent(
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
        pause_reason=row.pause_reason,
        disabled=row.disabled_at is not None,
    )


#: One agent by id, as a plain row (always fresh; not the password hash), built once:
#: every claim and move reads one.
_GET = select(*(c for c in m.AgentRow.__table__.c if c.name != "password_hash")).where(
    m.AgentRow.id == bindparam("agent_id")
)
_LOCK = _GET.with_for_update()
_TRY_LOCK = _GET.with_for_update(skip_locked=True)


def _free(now: datetime) -> Any:
    """Available, or a wrap-up that has run out."""
    free = or_(
        m.AgentRow.state == lc.AVAILABLE,
        (m.AgentRow.state == lc.WRAP_UP) & (m.AgentRow.wrap_up_until <= now),
    )
    return free & m.AgentRow.disabled_at.is_(None)


class SqlAgents(SqlRepository, cp.Agents):
    """Agents; skills and languages are JSON lists on the row (see ``m.AgentRow``)."""

    def _one(self, query: Select[Any], agent_id: int) -> Agent | None:
        row = self.session.execute(query, {"agent_id": agent_id}).first()
        return None if row is None else agent_of(row)

    def get(self, agent_id: int) -> Agent | None:
        return self._one(_GET, agent_id)

    def by_username(self, username: str) -> tuple[Agent, str] | None:
        row = self.session.scalars(
            select(m.AgentRow)
            .where(m.AgentRow.username == username)
            .execution_options(populate_existing=True)
        ).first()
        return None if row is None else (agent_of(row), row.password_hash)

    def all(self) -> list[Agent]:
        rows = self.session.scalars(
            select(m.AgentRow)
            .order_by(m.AgentRow.username)
            .execution_options(populate_existing=True)
        )
        return [agent_of(row) for row in rows]

    def lock_free(self, now: datetime, exclude: frozenset[int], limit: int) -> list[Agent]:
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
        return [agent_of(row) for row in self.session.scalars(query)]

    def lock(self, agent_id: int, skip_locked: bool = False) -> Agent | None:
        return self._one(_TRY_LOCK if skip_locked else _LOCK, agent_id)

    def take(self, agent_id: int, now: datetime, entry_id: int | None = None) -> bool:
        values: dict[str, Any] = {
            "state": lc.RINGING,
            "state_since": now,
            "wrap_up_until": None,
            "pause_reason": None,
        }
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
        pause_reason: str | None = None,
    ) -> bool:
        values = {
            "state": state,
            "state_since": since,
            "wrap_up_until": wrap_up_until,
            "pause_reason": pause_reason,
        }
        return self._change(m.AgentRow, agent_id, expect, values)

    def edit(self, agent_id: int, values: Mapping[str, Any]) -> bool:
        unknown = set(values) - cp.EDITABLE_AGENT_FIELDS
        if unknown:
            raise ValueError(f"not an agent's administrative field: {sorted(unknown)}")
        stored = dict(values)
        for listed in ("skills", "languages"):
            if listed in stored:
                stored[listed] = sorted(stored[listed])
        return self._change(m.AgentRow, agent_id, None, stored)

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
    ) -> Agent:
        row = m.AgentRow(
            username=username,
            name=name,
            password_hash=password_hash,
            role=role,
            skills=sorted(skills),
            languages=sorted(languages),
            endpoint=endpoint,
            state=lc.OFFLINE,
            state_since=now,
        )
        self.session.add(row)
        self.session.flush()
        return agent_of(row)


class SqlAgentNotes(SqlRepository, cp.AgentNotes):
    def _note(self, row: m.AgentNoteRow) -> Note:
        name = self.session.scalar(select(m.AgentRow.name).where(m.AgentRow.id == row.agent_id))
        return Note(row.at, name or "?", row.call_id, row.disposition, row.text, row.account_number)

    def add(self, agent_id: int, entry: Entry, disposition: str, text: str, at: datetime) -> Note:
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

    def about(self, account_number: str | None, caller_id: str, limit: int) -> list[Note]:
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

    def for_entry(self, entry_id: int) -> Note | None:
        row = self.session.scalars(
            select(m.AgentNoteRow).where(m.AgentNoteRow.entry_id == entry_id)
        ).first()
        return None if row is None else self._note(row)
