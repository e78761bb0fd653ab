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
from ivr.services.demo_calls import DemoCall, DemoComplaint, QueueVisit
from ivr.store.account_tables import AccountRow
from ivr.store.call_repositories import SqlCallRecords
from ivr.store.call_tables import CallRecordRow
from ivr.store.complaint_tables import ComplaintEventRow, ComplaintRow
from ivr.store.contact_tables import AgentRow, CallbackRow, QueueEntryRow
from ivr.store.survey_tables import SurveyAnswerRow
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
    """Write ``calls``, a batch of them per unit of work: their records, queue entries
    (answered by an agent with the queue's skill, when there is one), callbacks, survey
    answers and complaints (held by the demo accounts: a demo caller's typed account
    number is random)."""
    with unit_of_work() as uow:
        assert isinstance(uow, SqlUnitOfWork)
        agents = [tuple(row) for row in uow.session.execute(select(AgentRow.id, AgentRow.skills))]
        accounts = sorted(uow.session.scalars(select(AccountRow.number)))
    for first in range(0, len(calls), BATCH):
        batch = calls[first : first + BATCH]
        with unit_of_work() as uow:
            assert isinstance(uow, SqlUnitOfWork) and isinstance(uow.calls, SqlCallRecords)
            uow.calls.add_ended([call.record for call in batch])
            entries = [
                _entry(c, c.queue, _agent(agents, c)) for c in batch
                if c.queue and not c.queue.callback
            ]  # fmt: skip
            if entries:
                uow.session.execute(insert(QueueEntryRow), entries)
            answers = [
                _answer(c, c.queue, _agent(agents, c)) for c in batch if c.queue and c.queue.score
            ]
            if answers:
                uow.session.execute(insert(SurveyAnswerRow), answers)
            if accounts:
                for call in batch:
                    if call.complaint is not None:
                        _with_complaint(uow, call, call.complaint, accounts)
            for call in batch:
                if call.queue is not None and call.queue.callback:
                    _with_callback(uow, call, call.queue)
            uow.commit()


def _agent(agents: Sequence[tuple[Any, ...]], call: DemoCall) -> int | None:
    """The agent who answered: one with the queue's skill, picked by the call id."""
    if call.queue is None or not call.queue.answered or not agents:
        return None
    skilled = [agent for agent, skills in agents if call.queue.queue in (skills or ())]
    pick = skilled or [agent for agent, _ in agents]
    return int(pick[_number(call.record.call_id) % len(pick)])


def _number(call_id: str) -> int:
    """A demo call's number (``demo-<seed>-<n>``)."""
    return int(call_id.rsplit("-", 1)[-1])


def _answer(call: DemoCall, visit: QueueVisit, agent: int | None) -> dict[str, Any]:
    ended = call.record.ended_at or visit.enqueued_at
    return {
        "call_id": call.record.call_id, "queue": visit.queue, "agent_id": agent,
        "score": visit.score, "comment_recording": None, "at": ended,
    }  # fmt: skip


def _with_complaint(
    uow: SqlUnitOfWork, call: DemoCall, complaint: DemoComplaint, accounts: Sequence[str]
) -> None:
    """The complaint, and its events as a supervisor's desk would have written them."""
    number = _number(call.record.call_id)
    row = ComplaintRow(
        reference=f"9{number:07d}"[-8:], account_number=accounts[number % len(accounts)],
        caller=call.record.caller_id, category=complaint.category,
        state="resolved" if complaint.resolved_at else
        "acknowledged" if complaint.acknowledged_at else "open",
        call_id=call.record.call_id, created_at=complaint.opened_at,
        acknowledge_by=complaint.acknowledge_by, resolve_by=complaint.resolve_by,
        acknowledged_at=complaint.acknowledged_at, resolved_at=complaint.resolved_at,
    )  # fmt: skip
    uow.session.add(row)
    uow.session.flush()
    events = [("ivr", "opened", complaint.opened_at)]
    if complaint.acknowledged_at:
        events.append(("agent:sam", "acknowledged", complaint.acknowledged_at))
    if complaint.resolved_at:
        events.append(("agent:sam", "resolved", complaint.resolved_at))
    for actor, action, at in events:
        note = complaint.category if actor == "ivr" else "demo"
        uow.session.add(
            ComplaintEventRow(complaint_id=row.id, at=at, actor=actor, action=action, note=note)
        )


def _entry(call: DemoCall, visit: QueueVisit, agent: int | None = None) -> dict[str, Any]:
    """The caller's queue entry: answered (by ``agent``) and done, or abandoned."""
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
        "agent_id": agent,
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
