"""Writing the demo calls (``ivr.services.demo_calls``) through the real store: the
records by ``SqlCallRecords.add_ended`` (their funnel rows made as any ended call's), and
the queue entries and callback requests of those who reached a queue, in units of work of
a few hundred calls, each a few multi-row statements (5000 calls take seconds)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select

from ivr.center import lifecycle as lc
from ivr.services import ports
from ivr.services.demo_calls import DemoCall, QueueVisit
from ivr.store.call_repositories import SqlCallRecords
from ivr.store.call_tables import CallRecordRow
from ivr.store.contact_tables import CallbackRow, QueueEntryRow
from ivr.store.unit_of_work import SqlUnitOfWork

#: Calls written per unit of work.
BATCH = 500


def demo_calls_stored(unit_of_work: Callable[[], ports.UnitOfWork], prefix: str) -> int:
    """How many call records there are whose call id starts with ``prefix``."""
    with unit_of_work() as uow:
        assert isinstance(uow, SqlUnitOfWork)
        found = uow.session.scalar(
            select(func.count()).where(CallRecordRow.call_id.startswith(prefix, autoescape=True))
        )
    return int(found or 0)


def store_demo_calls(
    unit_of_work: Callable[[], ports.UnitOfWork], calls: Sequence[DemoCall]
) -> None:
    """Write ``calls``, a batch of them per unit of work."""
    for first in range(0, len(calls), BATCH):
        batch = calls[first : first + BATCH]
        with unit_of_work() as uow:
            assert isinstance(uow, SqlUnitOfWork) and isinstance(uow.calls, SqlCallRecords)
            uow.calls.add_ended([call.record for call in batch])
            entries = [_entry(c, c.queue) for c in batch if c.queue and not c.queue.callback]
            if entries:
                uow.session.execute(insert(QueueEntryRow), entries)
            for call in batch:
                if call.queue is not None and call.queue.callback:
                    _with_callback(uow, call, call.queue)
            uow.commit()


def _entry(call: DemoCall, visit: QueueVisit) -> dict[str, Any]:
    """The caller's queue entry: answered and done, or abandoned."""
    record = call.record
    enqueued = visit.enqueued_at
    answered = enqueued + timedelta(seconds=visit.wait) if visit.answered else None
    ended = (answered or enqueued) + timedelta(seconds=visit.talk or visit.wait)
    return {
        "kind": lc.CALL, "call_id": record.call_id, "queue": visit.queue, "priority": 1,
        "skill": visit.queue, "language": visit.language, "caller_id": record.caller_id,
        "account_number": record.account_number, "reason": record.reason,
        "path": list(record.path), "enqueued_at": enqueued,
        "state": lc.DONE if visit.answered else lc.ABANDONED, "answered_at": answered,
        "ended_at": ended, "wait_seconds": visit.wait, "talk_seconds": visit.talk,
    }  # fmt: skip


def _with_callback(uow: SqlUnitOfWork, call: DemoCall, visit: QueueVisit) -> None:
    """A caller who left the line with a callback request: their entry, the request's
    entry and the callback (done, failed or expired)."""
    record = call.record
    uow.session.execute(insert(QueueEntryRow), [_entry(call, visit)])
    asked = visit.enqueued_at + timedelta(seconds=visit.wait)
    request = QueueEntryRow(
        kind=lc.KIND_CALLBACK, call_id=record.call_id, queue=visit.queue, priority=1,
        skill=visit.queue, language=visit.language, caller_id=record.caller_id,
        account_number=record.account_number, reason=record.reason, path=list(record.path),
        enqueued_at=asked, state=lc.DONE if visit.callback == lc.CB_DONE else lc.FAILED,
        ended_at=asked + timedelta(hours=1),
    )  # fmt: skip
    uow.session.add(request)
    uow.session.flush()
    # a demo callback has no reference code: its hash is of the call id, never a code
    digest = hashlib.sha256(record.call_id.encode()).hexdigest()
    done = visit.callback == lc.CB_DONE
    uow.session.add(
        CallbackRow(
            entry_id=request.id, number=record.caller_id, reason=record.reason,
            language=visit.language, account_number=record.account_number, queue=visit.queue,
            code_salt="demo", code_hash=digest, created_at=asked,
            expires_at=asked + timedelta(hours=24), attempts=1, max_attempts=3,
            state=visit.callback, last_attempt_at=asked + timedelta(minutes=20),
            used_at=asked + timedelta(minutes=20) if done else None,
        )
    )  # fmt: skip
