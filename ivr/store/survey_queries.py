"""The survey's figures for a report (``ivr.services.insight.SurveyFigures``): answers in a
period, per queue, per agent and in all, in SQL that runs on SQLite and PostgreSQL (a
``GROUP BY`` over ``survey_answers``, whose ``at`` is indexed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, func, select
from sqlalchemy.orm import Session

from ivr.services.insight import Period, SurveyFigures
from ivr.store.models import AgentRow, SurveyAnswerRow

A = SurveyAnswerRow


def survey_figures(db: Session | Connection, period: Period) -> tuple[SurveyFigures, ...]:
    """``all`` first, then each queue, then each agent (by username), in name order. An
    answer after self-service counts in ``all`` only."""
    within = (A.at >= period.start, A.at < period.end)
    figures = (func.count(A.id), func.avg(A.score), func.count(A.comment_recording))
    everything = select(*figures).where(*within)
    queues = select(A.queue, *figures).where(*within, A.queue.is_not(None)).group_by(A.queue)
    agents = (
        select(AgentRow.username, *figures)
        .join(AgentRow, AgentRow.id == A.agent_id)
        .where(*within)
        .group_by(AgentRow.username)
    )
    total = db.execute(everything).one()
    out = [_figures("all", "", total[0], total[1], total[2])]
    out += _grouped(db, "queue", queues)
    out += _grouped(db, "agent", agents)
    return tuple(out)


def _grouped(db: Session | Connection, scope: str, query: Select[Any]) -> list[SurveyFigures]:
    rows = db.execute(query).all()
    return sorted(
        (_figures(scope, str(r[0]), r[1], r[2], r[3]) for r in rows), key=lambda f: f.name
    )


def _figures(scope: str, name: str, responses: int, average: Any, comments: int) -> SurveyFigures:
    mean = None if average is None or not responses else round(float(average), 2)
    return SurveyFigures(scope, name, int(responses or 0), mean, int(comments or 0))
