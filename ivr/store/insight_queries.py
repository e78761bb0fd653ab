"""The report's figures in SQL (``InsightQueries``): a few aggregate queries over the call
records, their node rows (``call_node_visits``), the queue entries and the callbacks of a
period, the same on SQLite and PostgreSQL. Each reads one indexed range of one table
(``started_at``, ``enqueued_at``, ``created_at``) and groups it; nothing is read row by
row (``bench/funnel.py``: a month, 82,000 calls, of a table of a million takes 0.65 s on
PostgreSQL; 100,000 calls on SQLite, 0.25 s).

What is counted (``ivr.services.insight`` has the fields' meaning): a call belongs to the
period it started in; the funnel and the branches count ended calls only. A call is
*contained* when it ended in the flow without a person and without hanging up there
(outcome neither ``abandoned`` nor ``interrupted``); it *abandoned* when it hung up in
the flow. Queue figures count live callers (entries of kind ``call``) by the time they
reached the queue; callbacks by the time they were asked for. The calls per hour count
every call that started in the hour, those in progress too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session

from ivr.center import lifecycle as lc
from ivr.services import insight as ins
from ivr.services.report_hours import local_hours
from ivr.store.call_tables import CallNodeVisitRow, CallRecordRow
from ivr.store.complaint_queries import complaint_counts
from ivr.store.contact_tables import CallbackRow, QueueEntryRow
from ivr.store.node_visits import HUNG_UP
from ivr.store.quarter_hours import quarter_hour
from ivr.store.survey_queries import survey_figures

#: The kind of a node the records name but the flow no longer has.
GONE = "gone"
#: Callback states that count as failed (never reached the customer in time).
CALLBACK_FAILED = (lc.CB_FAILED, lc.CB_EXPIRED)

R, V, Q, C = CallRecordRow, CallNodeVisitRow, QueueEntryRow, CallbackRow


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _average(condition: ColumnElement[bool], value: Any) -> ColumnElement[Any]:
    return func.avg(case((condition, value), else_=None))


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


class SqlInsightQueries(ins.InsightQueries):
    def __init__(self, session: Session) -> None:
        self.session = session

    def report(
        self,
        period: ins.Period,
        kinds: dict[str, str],
        service_levels: dict[str, int],
        now: datetime | None = None,
    ) -> ins.Report:
        levels = _levels(service_levels)
        calls, in_progress = self._calls(period)
        return ins.Report(
            period=period,
            calls=calls,
            in_progress=in_progress,
            nodes=self._nodes(period, kinds),
            branches=self._branches(period),
            transfers=self._transfers(period),
            queues=self._queues(period, service_levels, levels),
            hours=self._hours(period, levels),
            surveys=survey_figures(self.session, period),
            complaints=complaint_counts(self.session, period, now or period.end),
        )

    # -- calls and the funnel --------------------------------------------------------

    def _calls(self, period: ins.Period) -> tuple[int, int]:
        in_period = and_(R.started_at >= period.start, R.started_at < period.end)
        ended, going = self.session.execute(
            select(_count(R.outcome.is_not(None)), _count(R.outcome.is_(None))).where(in_period)
        ).one()
        return int(ended), int(going)

    def _nodes(self, period: ins.Period, kinds: Mapping[str, str]) -> tuple[ins.NodeFigures, ...]:
        rows = self.session.execute(
            select(
                V.node,
                func.count(),  # in NodeFigures' order
                func.sum(V.hung_up),
                func.sum(V.timeouts),
                func.sum(V.invalid),
                func.sum(V.to_person),
            )
            .where(V.started_at >= period.start, V.started_at < period.end)
            .group_by(V.node)
        ).all()
        found = {node: tuple(int(v or 0) for v in values) for node, *values in rows}
        order = [*kinds, *sorted(set(found) - set(kinds))]
        return tuple(
            ins.NodeFigures(node, kinds.get(node, GONE), *found.get(node, (0, 0, 0, 0, 0)))
            for node in order
        )

    def _branches(self, period: ins.Period) -> tuple[ins.BranchFigures, ...]:
        to_person = R.handoff.is_not(None)
        hung_up = R.outcome.in_(HUNG_UP)
        rows = self.session.execute(
            select(
                R.reason,
                func.count(),
                _count(~to_person & ~hung_up),
                _count(to_person),
                _count(~to_person & hung_up),
                _count(R.verification == "success"),
                _count(R.verification == "failure"),
                _count(R.verification == "locked"),
            )
            .where(*self._ended(period))
            .group_by(R.reason)
        ).all()
        branches = [ins.BranchFigures(reason, *(int(v) for v in rest)) for reason, *rest in rows]
        return tuple(sorted(branches, key=lambda b: (-b.calls, b.reason or "")))

    def _transfers(self, period: ins.Period) -> tuple[ins.TransferFigures, ...]:
        rows = self.session.execute(
            select(R.reason, R.handoff_node, R.handoff, func.count())
            .where(*self._ended(period), R.handoff.is_not(None))
            .group_by(R.reason, R.handoff_node, R.handoff)
        ).all()
        transfers = [
            ins.TransferFigures(reason, node or "", how or "", int(calls))
            for reason, node, how, calls in rows
        ]
        return tuple(sorted(transfers, key=lambda t: (-t.calls, t.reason or "", t.from_node)))

    @staticmethod
    def _ended(period: ins.Period) -> tuple[ColumnElement[bool], ...]:
        return (R.started_at >= period.start, R.started_at < period.end, R.outcome.is_not(None))

    # -- queues ----------------------------------------------------------------------

    def _queues(
        self,
        period: ins.Period,
        service_levels: Mapping[str, int],
        levels: ColumnElement[Any],
    ) -> tuple[ins.QueueFigures, ...]:
        answered = Q.answered_at.is_not(None)
        abandoned = Q.state == lc.ABANDONED
        rows = self.session.execute(
            select(
                Q.queue,
                func.count(),
                _count(answered),
                _count(abandoned),
                _average(abandoned, Q.wait_seconds),
                _count(answered & (Q.wait_seconds <= levels)),
                _average(answered, Q.wait_seconds),
                _average(answered & Q.talk_seconds.is_not(None), Q.talk_seconds),
                _count(abandoned & (Q.wait_seconds <= levels)),
            )
            .where(Q.kind == lc.CALL, Q.enqueued_at >= period.start, Q.enqueued_at < period.end)
            .group_by(Q.queue)
        ).all()
        offered = {row[0]: row[1:] for row in rows}
        callbacks = {
            queue: (int(asked), int(done), int(failed))
            for queue, asked, done, failed in self.session.execute(
                select(
                    C.queue,
                    func.count(),
                    _count(C.state == lc.CB_DONE),
                    _count(C.state.in_(CALLBACK_FAILED)),
                )
                .where(C.created_at >= period.start, C.created_at < period.end)
                .group_by(C.queue)
            ).all()
        }
        out = []
        others = sorted((set(offered) | set(callbacks)) - set(service_levels))
        for queue in [*service_levels, *others]:
            got = offered.get(queue, (0, 0, 0, None, 0, None, None, 0))
            count, ok, gone, gone_wait, within, speed, talk, gone_within = got
            asked, done, failed = callbacks.get(queue, (0, 0, 0))
            out.append(
                ins.QueueFigures(
                    queue=queue,
                    offered=int(count),
                    answered=int(ok),
                    abandoned=int(gone),
                    abandoned_wait=_number(gone_wait),
                    service_level_seconds=service_levels.get(
                        queue, ins.DEFAULT_SERVICE_LEVEL_SECONDS
                    ),
                    answered_within=int(within),
                    speed_of_answer=_number(speed),
                    handle_time=_number(talk),
                    callbacks_requested=asked,
                    callbacks_completed=done,
                    callbacks_failed=failed,
                    abandoned_within=int(gone_within),
                )
            )
        return tuple(out)

    # -- hours -----------------------------------------------------------------------

    def _hours(self, period: ins.Period, levels: ColumnElement[Any]) -> tuple[ins.HourFigures, ...]:
        counts: dict[int, list[int]] = {}
        started = quarter_hour(R.started_at)
        for quarter, calls in self.session.execute(
            select(started, func.count())
            .where(R.started_at >= period.start, R.started_at < period.end)
            .group_by(started)
        ).all():
            counts.setdefault(int(quarter), [0, 0, 0])[0] = int(calls)
        enqueued = quarter_hour(Q.enqueued_at)
        within = Q.answered_at.is_not(None) & (Q.wait_seconds <= levels)
        for quarter, offered, answered_within in self.session.execute(
            select(enqueued, func.count(), _count(within))
            .where(Q.kind == lc.CALL, Q.enqueued_at >= period.start, Q.enqueued_at < period.end)
            .group_by(enqueued)
        ).all():
            sums = counts.setdefault(int(quarter), [0, 0, 0])
            sums[1], sums[2] = int(offered), int(answered_within)
        hours = local_hours(
            period.start, period.end, period.tz, {q: tuple(v) for q, v in counts.items()}, 3
        )
        return tuple(ins.HourFigures(hour, *sums) for hour, sums in hours)


def _levels(service_levels: Mapping[str, int]) -> ColumnElement[Any]:
    """Each queue's service-level seconds, as an SQL expression on the entry's queue."""
    default = literal(ins.DEFAULT_SERVICE_LEVEL_SECONDS)
    if not service_levels:
        return default
    return case(dict(service_levels), value=Q.queue, else_=default)
