"""The survey answers and recordings tables (``ivr.services.survey_ports.SurveyAnswers``);
every method is one short transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ivr.services.survey_ports import Recording, SurveyAnswer, SurveyAnswers
from ivr.store.models import QueueEntryRow, RecordingRow, SurveyAnswerRow


class SqlSurveyAnswers(SurveyAnswers):
    def __init__(self, sessions: Callable[[], Session]) -> None:
        self.sessions = sessions

    def add(self, answer: SurveyAnswer) -> None:
        with self.sessions() as session:
            session.add(
                SurveyAnswerRow(
                    call_id=answer.call_id,
                    queue=answer.queue,
                    agent_id=answer.agent_id,
                    score=answer.score,
                    comment_recording=answer.comment,
                    at=answer.at,
                )
            )
            session.commit()

    def talk_of(self, call_id: str) -> tuple[str, int | None] | None:
        query = (
            select(QueueEntryRow.queue, QueueEntryRow.agent_id)
            .where(QueueEntryRow.call_id == call_id, QueueEntryRow.answered_at.is_not(None))
            .order_by(QueueEntryRow.answered_at.desc(), QueueEntryRow.id.desc())
            .limit(1)
        )
        with self.sessions() as session:
            row = session.execute(query).first()
        return None if row is None else (row.queue, row.agent_id)

    def keep_recording(self, recording: Recording) -> None:
        with self.sessions() as session:
            session.merge(
                RecordingRow(
                    id=recording.id,
                    call_id=recording.call_id,
                    location=recording.location,
                    created_at=recording.created_at,
                )
            )
            session.commit()

    def recordings_before(self, cutoff: datetime, limit: int) -> list[Recording]:
        query = (
            select(RecordingRow)
            .where(RecordingRow.created_at < cutoff)
            .order_by(RecordingRow.created_at)
            .limit(limit)
        )
        with self.sessions() as session:
            rows = session.scalars(query).all()
        return [Recording(r.id, r.call_id, r.location, r.created_at) for r in rows]

    def forget_recordings(self, ids: list[str]) -> None:
        with self.sessions() as session:
            session.execute(delete(RecordingRow).where(RecordingRow.id.in_(ids)))
            session.commit()
