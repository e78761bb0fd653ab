"""What the post-call survey and the recordings keep, and the port they keep it through
(``ivr.store.survey_answers.SqlSurveyAnswers``; tests fake it)."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SurveyAnswer:
    """A caller's score (1 to 5); ``queue`` and ``agent_id`` are those of the talk the
    survey followed (None after self-service); ``comment``: the recording's id."""

    call_id: str
    score: int
    at: datetime
    queue: str | None = None
    agent_id: int | None = None
    comment: str | None = None


@dataclass(frozen=True)
class Recording:
    """A recording of a caller's voice: ``location`` is its file's name in the recordings
    folder, or a URL (Twilio keeps the audio)."""

    id: str
    call_id: str
    location: str
    created_at: datetime


class SurveyAnswers(abc.ABC):
    """Survey answers and recordings, each method one short transaction."""

    @abc.abstractmethod
    def add(self, answer: SurveyAnswer) -> None: ...

    @abc.abstractmethod
    def talk_of(self, call_id: str) -> tuple[str, int | None] | None:
        """The queue and agent of the call's latest queue entry a person answered."""

    @abc.abstractmethod
    def keep_recording(self, recording: Recording) -> None: ...

    @abc.abstractmethod
    def recordings_before(self, cutoff: datetime, limit: int) -> list[Recording]:
        """The oldest recordings made before ``cutoff``, at most ``limit``."""

    @abc.abstractmethod
    def forget_recordings(self, ids: list[str]) -> None:
        """Delete these recordings' rows (their files are gone)."""
