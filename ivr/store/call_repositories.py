"""SQL adapters for what is kept of calls: the call records (merged, and closed when
their process is gone) and the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ivr.center.lifecycle import ACTIVE_ENTRY_STATES, CALL, CB_CONNECTED
from ivr.services import ports
from ivr.services.caller_numbers import e164
from ivr.store.call_tables import AuditRow, CallNodeVisitRow, CallRecordRow
from ivr.store.contact_tables import CallbackRow, QueueEntryRow
from ivr.store.node_visits import replace_visits, visit_rows


class SqlCallRecords(ports.CallRecords):
    """``save`` applies the merge rule of ``ports.CallRecords`` in one statement in the
    usual case: an upsert (``INSERT ... ON CONFLICT (call_id) DO UPDATE ... WHERE``) that
    inserts the first version, or replaces a still-open row when the rule allows (no
    funnel rows exist for an open row, so a closed version only adds them). An upsert is
    atomic on both databases: two processes saving one call at once never both insert.
    Only when the row was closed ``interrupted`` by a reaper (the call was alive after
    all) does a second statement replace it, and its funnel rows (``node_visits``) with
    it: a closed version writes them, an open one drops them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def save(self, record: ports.CallRecord) -> None:
        values = upsert_values(record)
        connection = self.session.connection()
        statement = _UPSERT_OPEN if record.open else _UPSERT_CLOSED
        if connection.execute(statement[connection.dialect.name], values).first() is not None:
            if not record.open:  # the row was open: it had no funnel rows yet
                self._visits(record, replace=False)
            return
        interrupted = _REPLACE_INTERRUPTED_OPEN if record.open else _REPLACE_INTERRUPTED
        if connection.execute(interrupted, values).rowcount == 1:
            self._visits(record, replace=True)
        # Else the row is closed for good, or newer than this open version: left alone.

    def _visits(self, record: ports.CallRecord, replace: bool) -> None:
        rows = []
        if not record.open:
            rows = visit_rows(
                record.call_id, record.started_at, record.path, record.last_node,
                record.outcome, record.timeouts, record.invalid, record.handoff_node,
            )  # fmt: skip
        if replace:
            replace_visits(self.session, record.call_id, rows)
        elif rows:
            self.session.connection().execute(insert(_VISITS), rows)

    def add_ended(self, records: Sequence[ports.CallRecord]) -> None:
        """Insert ended calls' records that are not in the table yet, and their funnel
        rows, in a few statements (demo calls, imports); a call id already there fails
        the unit of work on the unique index."""
        ended = [r for r in records if not r.open]
        if len(ended) != len(records):
            raise ValueError("add_ended takes ended calls' records only")
        if not records:
            return
        self.session.execute(
            insert(CallRecordRow), [{"call_id": r.call_id, **_values(r)} for r in records]
        )
        self.session.execute(
            insert(CallNodeVisitRow),
            [
                row
                for r in records
                for row in visit_rows(
                    r.call_id,
                    r.started_at,
                    r.path,
                    r.last_node,
                    r.outcome,
                    r.timeouts,
                    r.invalid,
                    r.handoff_node,
                )  # fmt: skip
            ],
        )

    def close_interrupted(self, seen_before: datetime, limit: int) -> list[str]:
        row, entry, callback = CallRecordRow, QueueEntryRow, CallbackRow
        alive = (
            select(entry.id)
            .where(
                entry.call_id == row.call_id,
                entry.kind == CALL,
                entry.state.in_(ACTIVE_ENTRY_STATES),
            )
            .exists()
        )
        # A callback call: alive while the customer it reached is held or talking (the
        # entry's lease says when its holder is gone).
        calling_back = (
            select(callback.id)
            .join(entry, entry.id == callback.entry_id)
            .where(
                callback.call_id == row.call_id,
                callback.state == CB_CONNECTED,
                entry.state.in_(ACTIVE_ENTRY_STATES),
            )
            .exists()
        )
        stale = (row.outcome.is_(None), row.last_seen_at < seen_before, ~alive, ~calling_back)
        candidates = self.session.scalars(
            select(row.id).where(*stale).order_by(row.last_seen_at).limit(limit)
        ).all()
        closed = []
        for record_id in candidates:
            # The conditional UPDATE is the compare-and-set: a record another reaper
            # closed, or its call wrote meanwhile, is left alone.
            done = self.session.execute(
                update(row)
                .where(row.id == record_id, *stale)
                .values(outcome=ports.INTERRUPTED, ended_at=row.last_seen_at)
                .returning(
                    row.call_id,
                    row.started_at,
                    row.path,
                    row.last_node,
                    row.timeouts,
                    row.invalid,
                    row.handoff_node,
                )  # fmt: skip
                .execution_options(synchronize_session=False)
            ).one_or_none()
            if done is not None:
                call_id, started, path, last, timeouts, invalid, handoff = done
                rows = visit_rows(
                    call_id, started, path, last, ports.INTERRUPTED, timeouts, invalid, handoff
                )
                replace_visits(self.session, call_id, rows)
                closed.append(call_id)
        return closed

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(CallRecordRow)) or 0


def _values(record: ports.CallRecord) -> dict[str, Any]:
    """The row's columns for ``record`` (all but the call id)."""
    return {
        "channel": record.channel,
        "caller_id": record.caller_id,
        "caller_e164": e164(record.caller_id),
        "language": record.language,
        "reason": record.reason,
        "account_number": record.account_number,
        "path": list(record.path),
        "last_node": record.last_node,
        "outcome": record.outcome,
        "queue": record.queue,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "last_seen_at": record.last_seen,
        "timeouts": dict(record.timeouts),
        "invalid": dict(record.invalid),
        "verification": record.verification,
        "handoff_node": record.handoff_node,
        "handoff": record.handoff,
    }


_TABLE: Table = CallRecordRow.__table__  # type: ignore[assignment]
_NEW_AUDIT = insert(AuditRow)
_VISITS: Table = CallNodeVisitRow.__table__  # type: ignore[assignment]
_COLUMNS = [c.name for c in _TABLE.columns if c.name != "id"]


def _upsert(dialect_insert: Any, open_version: bool) -> Any:
    """The first version inserts; a later one replaces a row that is still open (and, for
    an open version, last seen no later than it)."""
    statement = dialect_insert(_TABLE).values({name: bindparam(f"v_{name}") for name in _COLUMNS})
    still_open = _TABLE.c.outcome.is_(None)
    if open_version:
        still_open = still_open & (_TABLE.c.last_seen_at <= statement.excluded.last_seen_at)
    return statement.on_conflict_do_update(
        index_elements=[_TABLE.c.call_id],
        set_={name: statement.excluded[name] for name in _COLUMNS if name != "call_id"},
        where=still_open,
    ).returning(_TABLE.c.id)  # a row back: inserted or replaced (rowcount is not portable)


_UPSERT_OPEN = {"postgresql": _upsert(pg_insert, True), "sqlite": _upsert(sqlite_insert, True)}


def open_upsert(dialect: str) -> Any:
    """An open version's upsert for ``dialect``: a row back when it was written."""
    return _UPSERT_OPEN[dialect]


def upsert_values(record: ports.CallRecord) -> dict[str, Any]:
    """The upserts' values for ``record``."""
    values = {f"v_{k}": v for k, v in _values(record).items()}
    values["v_call_id"] = record.call_id
    return values


_UPSERT_CLOSED = {
    "postgresql": _upsert(pg_insert, False),
    "sqlite": _upsert(sqlite_insert, False),
}


def _replace_interrupted(open_version: bool) -> Any:
    where = (_TABLE.c.call_id == bindparam("v_call_id")) & (_TABLE.c.outcome == ports.INTERRUPTED)
    if open_version:
        where = where & (_TABLE.c.last_seen_at <= bindparam("v_last_seen_at"))
    return (
        update(_TABLE)
        .where(where)
        .values({name: bindparam(f"v_{name}") for name in _COLUMNS if name != "call_id"})
    )


_REPLACE_INTERRUPTED_OPEN = _replace_interrupted(True)
_REPLACE_INTERRUPTED = _replace_interrupted(False)


class SqlAuditLog(ports.AuditLog):
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        at: datetime,
        call_id: str,
        account_number: str | None,
        action: str,
        detail: dict[str, Any],
        actor: str = "ivr",
    ) -> None:
        row = {
            "at": at,
            "actor": actor,
            "call_id": call_id,
            "account_number": account_number,
            "action": action,
            "detail": detail,
        }
        self.session.connection().execute(_NEW_AUDIT, row)  # a Core insert: no ORM flush

    def recorded(self, call_id: str, action: str, actor: str) -> bool:
        found = self.session.scalar(
            select(AuditRow.id)
            .where(AuditRow.call_id == call_id)
            .where(AuditRow.action == action)
            .where(AuditRow.actor == actor)
            .limit(1)
        )
        return found is not None

    def actions(self, call_id: str) -> list[str]:
        found = self.session.scalars(
            select(AuditRow.action)
            .where(AuditRow.call_id == call_id)
            .where(AuditRow.actor == "ivr")
            .order_by(AuditRow.at, AuditRow.id)
            .limit(200)
        )
        return list(found)
