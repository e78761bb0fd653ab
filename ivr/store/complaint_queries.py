"""The complaints' figures for a report (``Report.complaints``): one aggregate query,
the same SQL on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ivr.services.complaint_ports import ACKNOWLEDGED, OPEN, RESOLVED, UNRESOLVED
from ivr.services.insight import Period
from ivr.store.complaint_tables import ComplaintRow as C

#: The figures, in the order a report shows them.
FIGURES = ("opened", "open", "overdue", "resolved", "resolved_late")


def complaint_counts(db: Session | Connection, period: Period, now: datetime) -> dict[str, int]:
    """``opened``: complaints opened in the period; ``open`` and ``overdue``: not resolved
    now, and past the deadline they wait for; ``resolved``: resolved in the period;
    ``resolved_late``: of those, resolved after their resolve-by."""
    in_period = and_(C.created_at >= period.start, C.created_at < period.end)
    resolved = and_(C.state == RESOLVED, C.resolved_at >= period.start, C.resolved_at < period.end)
    overdue = or_(
        and_(C.state == OPEN, C.acknowledge_by < now),
        and_(C.state == ACKNOWLEDGED, C.resolve_by < now),
    )
    query = select(
        _count(in_period),
        _count(C.state.in_(UNRESOLVED)),
        _count(overdue),
        _count(resolved),
        _count(and_(resolved, C.resolved_at > C.resolve_by)),
    )
    row = db.execute(query).one()
    return {name: int(value or 0) for name, value in zip(FIGURES, row, strict=True)}


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
