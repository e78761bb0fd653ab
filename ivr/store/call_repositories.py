"""SQL adapters for what is kept of calls: the call records (merged, and closed when
their process is gone) and the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, Update, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from ivr.center.lifecycle import ACTIVE_ENTRY_STATES, CALL, CB_CONNECTED
from ivr.services import ports
from ivr.services.caller_numbers import e164
from ivr.store.call_tables import AuditRow, CallNodeVisitRow, CallRecordRow
from ivr.store.contact_tables import CallbackRow, QueueEntryRow
from ivr.store.node_visits import replace_visits, visit_rows

_RECORDS = cast(Table, CallRecordRow.__table__)
#: The columns ``_values`` gives (all but the id and the call id).
_COLUMNS = (
    "channel", "caller_id", "caller_e164", "language", "reason", "account_number", "path",
    "last_node", "outcome", "queue", "started_at", "ended_at", "last_seen_at", "timeouts",
    "invalid", "verification", "handoff_node", "handoff",
)  # fmt: skip
#: What an open version may change in an open row: not the call's channel, caller or start,
#: and no outcome or end yet (fewer columns set, fewer of the table's indexes rewritten).
_MOVING = tuple(c for c in _COLUMNS if c not in {
    "channel", "caller_id", "caller_e164", "started_at", "outcome", "ended_at",
})  # fmt: skip


def _merge(open_version: bool, row_open: bool) -> Update:
    """A conditional UPDATE of ``save`` (built once: a call's record is written at every
    step of the call), for a row still open or one the reaper closed as interrupted."""
    c = _RECORDS.c
    replaceable = c.outcome.is_(None) if row_open else c.outcome == ports.INTERRUPTED
    if open_version:
        replaceable = replaceable & (c.last_seen_at <= bindparam("seen"))
    columns = _MOVING if open_version and row_open else _COLUMNS
    new: dict[str, Any] = {name: bindparam(f"new_{name}") for name in columns}
    return update(_RECORDS).where(c.call_id == bindparam("call"), replaceable).values(new)


#: ``save``'s statements: the merges (by the version's openness, then the row's), and the
#: look for the row when none matched.
_MERGE = {(v, r): _merge(v, r) for v in (True, False) for r in (True, False)}
_FIND = select(_RECORDS.c.id).where(_RECORDS.c.call_id == bindparam("call"))
_ADD = insert(_RECORDS)


class SqlCallRecords(ports.CallRecords):
    """``save`` is a conditional UPDATE (the merge rule of ``ports.CallRecords``: first of
    an open row, the common case, then of one closed as interrupted), then an INSERT when
    there is no row yet; two processes inserting one call at once make the
    second fail on the unique call id, and the caller (``CallRecorder``) tries again.
    A version that wins the merge rewrites the call's funnel rows (``node_visits``): a
    closed one writes them, an open one (the call was alive after all) drops them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def save(self, record: ports.CallRecord) -> None:
        values = _values(record)
        merge = {f"new_{name}": value for name, value in values.items()}
        merge.update(call=record.call_id, seen=record.last_seen)
        for row_open in (True, False):
            done = self.session.execute(_MERGE[record.open, row_open], merge)
            if done.rowcount == 1:  # type: ignore[attr-defined]
                if not (record.open and row_open):  # an open row has no funnel rows
                    self._visits(record)
                return
        if self.session.scalar(_FIND, {"call": record.call_id}) is None:
            self.session.execute(_ADD, {"call_id": record.call_id, **values})
            if not record.open:
                self._visits(record)

    def _visits(self, record: ports.CallRecord) -> None:
        rows = []
        if not record.open:
            rows = visit_rows(
                record.call_id, record.started_at, record.path, record.last_node,
                record.outcome, record.timeouts, record.invalid, record.handoff_node,
            )  # fmt: skip
        replace_visits(self.session, record.call_id, rows)

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
        self.session.add(
            AuditRow(
                at=at,
                actor=actor,
                call_id=call_id,
                account_number=account_number,
                action=action,
                detail=detail,
            )
        )

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
