"""The post-call survey's use case (``record_survey``) and what is kept of a recording.

``record_survey`` stores the score the caller gave (``survey_score``) with the comment's
recording id (``survey_comment``), and, when the survey follows a talk with an agent, the
queue and the agent of that talk (the call's answered queue entry). It runs behind
``UseCases.provide``: a store that fails gives the ``error`` outcome, and the flow thanks
the caller all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from ivr.flow.events import Result
from ivr.flow.survey_parts import COMMENT, SAVED, SCORE, SCORES
from ivr.services import ports
from ivr.services.survey_ports import Recording, SurveyAnswer, SurveyAnswers

logger = logging.getLogger(__name__)


def record_survey(answers: SurveyAnswers, clock: ports.Clock, args: Mapping[str, str]) -> Result:
    """Store one answer; ``error`` for a score that is not 1 to 5 (the engine gives none)."""
    score = args.get(SCORE, "")
    call_id = args.get("call_id", "")
    if score not in SCORES or not call_id:
        logger.error("record_survey: no valid score or call id (%r)", score)
        return Result("error")
    talk = answers.talk_of(call_id)
    queue, agent_id = talk if talk else (None, None)
    answer = SurveyAnswer(
        call_id=call_id,
        score=int(score),
        at=clock.now(),
        queue=queue,
        agent_id=agent_id,
        comment=args.get(COMMENT) or None,
    )
    answers.add(answer)
    logger.info("call %s: survey score %s (queue %s)", call_id, score, queue or "-")
    return Result(SAVED)


def keep_recording(
    answers: SurveyAnswers, clock: ports.Clock, call_id: str, recording_id: str, location: str
) -> bool:
    """Remember a recording a driver made (so that its retention can end it); False,
    logged, when it cannot be kept (the call goes on: its file still ages out)."""
    try:
        answers.keep_recording(Recording(recording_id, call_id, location, clock.now()))
    except Exception:
        logger.exception("call %s: could not keep recording %s", call_id, recording_id)
        return False
    return True
