"""The recordings' retention: a recording older than ``IVR_RECORDING_RETENTION_DAYS`` loses
its file and its row, a batch per dispatcher round (at most once per ``interval``). The
survey answer that named it keeps its score (the comment's id then names nothing).

A URL (Twilio keeps the audio on its side) has no file here: its row goes; deleting
Twilio's copy is left to the account's own retention setting."""

from __future__ import annotations

import abc
import logging
from datetime import timedelta

from ivr.services import ports
from ivr.services.survey_ports import SurveyAnswers

logger = logging.getLogger(__name__)

#: Recordings ended per round, so that a long backlog never holds a round up.
BATCH = 200


class RecordingFiles(abc.ABC):
    """The folder recordings are kept in (``ivr.store.recording_files.RecordingFolder``)."""

    @abc.abstractmethod
    def remove(self, location: str) -> bool:
        """Delete the file ``location`` names (a name in the folder; a URL is not one):
        True when it is gone or never was, False when it could not be deleted."""


class RecordingUpkeep:
    """``run()``: one round of the retention (the dispatcher's)."""

    def __init__(
        self,
        answers: SurveyAnswers,
        files: RecordingFiles,
        clock: ports.Clock,
        retention: timedelta,
        interval: float = 600.0,
    ) -> None:
        self.answers = answers
        self.files = files
        self.clock = clock
        self.retention = retention
        self.interval = interval
        self._ran_at: float | None = None

    def run(self) -> int:
        """End the recordings past their retention (a batch); how many were ended."""
        now = self.clock.now()
        moment = now.timestamp()
        if self._ran_at is not None and moment - self._ran_at < self.interval:
            return 0
        self._ran_at = moment
        old = self.answers.recordings_before(now - self.retention, BATCH)
        gone = [r.id for r in old if self.files.remove(r.location)]
        if gone:
            self.answers.forget_recordings(gone)
            logger.info("recordings: %d past their retention deleted", len(gone))
        if len(gone) < len(old):
            logger.warning("recordings: %d files could not be deleted", len(old) - len(gone))
        return len(gone)
