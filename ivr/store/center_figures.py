"""The contact center's figures for ``/metrics`` (``ivr.services.center_metrics``), in one
bounded query: entries held per queue and kind with the oldest one's join time, and agents
per state. On PostgreSQL the statement may run ``STATEMENT_TIMEOUT_MS`` at most."""

from __future__ import annotations

from sqlalchemy import Engine, func, literal, null, select, text, union_all
from sqlalchemy.sql.expression import cast

from ivr.center import lifecycle as lc
from ivr.services.center_metrics import CenterFigures, QueueFigure
from ivr.store.base import UtcDateTime
from ivr.store.contact_tables import AgentRow, QueueEntryRow

#: Rows read at most (queues times kinds, plus agent states).
ROWS = 1000
STATEMENT_TIMEOUT_MS = 2000


def read_center_figures(engine: Engine) -> CenterFigures:
    entries = (
        select(
            literal("queue").label("what"),
            QueueEntryRow.queue.label("name"),
            QueueEntryRow.kind.label("kind"),
            func.count().label("count"),
            func.min(QueueEntryRow.enqueued_at).label("oldest"),
        )
        .where(QueueEntryRow.state.in_(sorted(lc.HELD)))
        .group_by(QueueEntryRow.queue, QueueEntryRow.kind)
    )
    agents = select(
        literal("agent"),
        AgentRow.state,
        literal(""),
        func.count(),
        cast(null(), UtcDateTime()),
    ).group_by(AgentRow.state)
    query = union_all(entries, agents).limit(ROWS)
    queues: list[QueueFigure] = []
    states: dict[str, int] = {}
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
        rows = conn.execute(query).all()
    for what, name, kind, count, oldest in rows:
        if what == "queue":
            queues.append(QueueFigure(name, kind, int(count), oldest))
        else:
            states[name] = int(count)
    return CenterFigures(tuple(queues), states)
