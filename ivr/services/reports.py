"""The report over a period, as ``ivr report``, ``ivr graph --stats`` and the reports page
show it: the figures read through the unit of work (``uow.insight``), with each node's
kind and each queue's service-level target taken from the loaded flow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from ivr.flow import model
from ivr.services import insight, ports
from ivr.services.report_hours import zone

#: The node a callback call's record names (``ivr.phone.callback_record.NODE``): it runs
#: no flow, so the flow has no such node.
CALLBACK_NODE = "callback"


def build_report(
    unit_of_work: Callable[[], ports.UnitOfWork],
    flow: model.Flow,
    period: insight.Period,
    now: datetime | None = None,
) -> insight.Report:
    """The figures of ``period`` (read in one unit of work, nothing written); the
    complaints open and overdue at ``now`` (the clock's; None: at the period's end)."""
    zone(period.tz)  # a clear error for an unknown zone, before any query
    if period.end <= period.start:
        raise ValueError(f"a report's period must end after it starts: {period}")
    with unit_of_work() as uow:
        return uow.insight.report(period, node_kinds(flow), service_levels(flow), now)


def node_kinds(flow: model.Flow) -> dict[str, str]:
    """Each node's type (``menu``, ``queue``...), in the flow's order."""
    kinds = {node_id: type(node).__name__.lower() for node_id, node in flow.nodes.items()}
    kinds.setdefault(CALLBACK_NODE, "callback")
    return kinds


def service_levels(flow: model.Flow) -> dict[str, int]:
    """Each queue's service-level target in whole seconds."""
    return {name: round(spec.service_level) for name, spec in flow.queues.items()}


def period_of(first: date, last: date, tz: str) -> insight.Period:
    """The days ``first`` to ``last`` (both included) in time zone ``tz``, as a period."""
    if last < first:
        raise ValueError(f"the period's last day {last} is before its first {first}")
    where = zone(tz)
    start = datetime.combine(first, time(), where).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), where).astimezone(UTC)
    return insight.Period(start, end, tz)


def today(now: datetime, tz: str) -> insight.Period:
    """The day ``now`` is in, in ``tz`` (``now`` from the clock, aware)."""
    day = now.astimezone(zone(tz)).date()
    return period_of(day, day, tz)
