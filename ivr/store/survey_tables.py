"""The post-call survey's answers and the recordings of callers' voices (issue 13)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ivr.store.base import Base, CallId


class SurveyAnswerRow(Base):
    """One survey answer: the score (1 to 5) a caller gave, after self-service (no queue)
    or after an agent (the queue and the agent of the call's queue entry), and the id of
    the recorded comment, if any (``recordings.id``; it outlives the recording)."""

    __tablename__ = "survey_answers"
    __table_args__ = (Index("ix_survey_answers_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(CallId, index=True)
    queue: Mapped[str | None] = mapped_column(String(40))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    score: Mapped[int]
    comment_recording: Mapped[str | None] = mapped_column(String(160))
    at: Mapped[datetime]


class RecordingRow(Base):
    """A recording of a caller's voice: a file in the recordings folder (``location`` its
    name there) or, from Twilio, the recording's URL. Removed with its file after the
    retention period (``IVR_RECORDING_RETENTION_DAYS``)."""

    __tablename__ = "recordings"
    __table_args__ = (Index("ix_recordings_created_at", "created_at"),)

    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    call_id: Mapped[str] = mapped_column(CallId, index=True)
    location: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
