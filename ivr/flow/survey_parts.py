"""The post-call survey, in parts: who is asked, and the nodes a ``survey`` node stands for.

A ``survey`` node ``s`` is the score question (``nodes.Survey``); the compiler adds, after
it, ``s_comment`` (a menu: "press 1 to leave a comment", only with a ``comment_prompt``),
``s_record`` (a ``record`` node), ``s_save`` (the ``record_survey`` use case, which stores
the answer) and ``s_thanks`` (a ``say``), which goes on to the survey's ``next``. A node
written with one of those ids is refused. They are
ordinary nodes: the engine, the checks and the call records see them as written ones.

Who is asked is decided when the call reaches the survey, from the call data only, so a
test (or a replay) can tell the decision in advance: ``sampled`` hashes the call id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from ivr.errors import SourcePosition
from ivr.flow import model, nodes
from ivr.flow.compiler import Common

#: The call data the survey writes: the score (1 to 5) and the comment's recording id.
SCORE = "survey_score"
COMMENT = "survey_comment"
#: The use case that stores an answer, and its one outcome.
RECORD_SURVEY = "record_survey"
SAVED = "saved"
SCORES = frozenset("12345")
#: The parts a survey node ``s`` adds, as ``s_<part>``.
PARTS = ("comment", "record", "save", "thanks")


def part(survey_id: str, name: str) -> str:
    return f"{survey_id}_{name}"


def sampled(call_id: str, rate: float) -> bool:
    """True if the call is in the sample: the first 8 bytes of the call id's SHA-256, as
    a fraction of 2**64, below ``rate`` (so the same call id is always in or out)."""
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    digest = hashlib.sha256(call_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def skipped(survey: nodes.Survey, data: Mapping[str, str]) -> bool:
    """True if this call does not hear the survey: it answered one already, its reason is
    one the survey skips (``security``), or the sample leaves it out."""
    if SCORE in data or data.get("reason", "") in survey.skip_reasons:
        return True
    return not sampled(data.get("call_id", ""), survey.sample)


def parts_of(
    survey_id: str,
    position: SourcePosition,
    comment_prompt: str | None,
    record_prompt: str | None,
    thanks_prompt: str,
    max_seconds: int,
    next_node: str,
    timeout: float,
) -> list[model.Node]:
    """The nodes after the score question of survey ``survey_id``: the comment offer and
    its recording (with a ``comment_prompt``), the saving, the thanks."""

    def common(node_id: str) -> Common:
        return {
            "id": node_id,
            "position": position,
            "set": {},
            "max_visits": None,
            "on_max_visits": None,
        }

    save, thanks = part(survey_id, "save"), part(survey_id, "thanks")
    out: list[model.Node] = []
    if comment_prompt:
        record = part(survey_id, "record")
        out.append(
            nodes.Menu(
                **common(part(survey_id, "comment")),
                prompts=(comment_prompt,),
                timeout=timeout,
                retries=0,  # anything but 1 (or nothing) is "no comment"
                invalid_prompt=None,
                timeout_prompt=None,
                choices={"1": record},
                on_failure=save,
            )
        )
        out.append(
            nodes.Record(
                **common(record),
                prompts=(record_prompt,) if record_prompt else (),
                max_seconds=max_seconds,
                save_as=COMMENT,
                next=save,
                on_failure=save,
            )
        )
    out.append(
        nodes.Action(
            **common(save),
            action=RECORD_SURVEY,
            outcomes={SAVED: thanks},
            on_error=thanks,  # the answer could not be stored: thank the caller all the same
        )
    )
    out.append(nodes.Say(**common(thanks), prompts=(thanks_prompt,), next=next_node))
    return out
