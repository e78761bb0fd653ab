"""Callbacks and the callback codes callers typed, in SQL (``ivr.services.contact_ports``'
``Callbacks`` and ``CodeAttempts``); see ``ivr.store.sql_repository`` for locks and
compare-and-set."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from ivr.center import lifecycle as lc
from ivr.services import contact_ports as cp
from ivr.services.caller_numbers import e164
from ivr.services.contact_callbacks import Callback
from ivr.services.contact_entries import Entry
from ivr.store import models as m
from ivr.store.lockout_queries import failures_after_success, same_caller
from ivr.store.sql_repository import SqlRepository


def _callback(row: m.CallbackRow) -> Callback:
    return Callback(
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


class SqlCallbacks(SqlRepository, cp.Callbacks):
    def _one(self, query: Select[Any]) -> Callback | None:
        row = self.session.scalars(query.execution_options(populate_existing=True)).first()
        return None if row is None else _callback(row)

    def add(
        self,
        entry: Entry,
        number: str,
        code_salt: str,
        code_hash: str,
        now: datetime,
        expires_at: datetime,
        max_attempts: int,
    ) -> Callback:
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
            state=lc.CB_WAITING,
        )
        self.session.add(row)
        self.session.flush()
        return _callback(row)

    def get(self, callback_id: int) -> Callback | None:
        return self._one(select(m.CallbackRow).where(m.CallbackRow.id == callback_id))

    def lock(self, callback_id: int) -> Callback | None:
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
                m.CallbackRow.state.in_(lc.ACTIVE_CALLBACK_STATES),
            )
        )
        return bool(found)

    def by_code(self, code_hash: str) -> Callback | None:
        active = m.CallbackRow.state.in_(lc.ACTIVE_CALLBACK_STATES)
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

    def recent(self, limit: int) -> list[Callback]:
        row = m.CallbackRow
        active = row.state.in_(lc.ACTIVE_CALLBACK_STATES)
        rows = self.session.scalars(
            select(row).order_by(active.desc(), row.id).execution_options(populate_existing=True)
        )
        found = [_callback(r) for r in rows]
        live = [c for c in found if c.state in lc.ACTIVE_CALLBACK_STATES]
        ended = sorted((c for c in found if c not in live), key=lambda c: -c.id)
        return (live + ended)[:limit]

    def pending_by_queue(self) -> dict[str, int]:
        rows = self.session.execute(
            select(m.CallbackRow.queue, func.count())
            .where(m.CallbackRow.state.in_(lc.PENDING_CALLBACK_STATES))
            .group_by(m.CallbackRow.queue)
        )
        return {queue: int(count) for queue, count in rows}


class SqlCodeAttempts(SqlRepository, cp.CodeAttempts):
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
