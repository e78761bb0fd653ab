"""The ``record`` and ``survey`` nodes in the pure engine, on tiny flows (use cases and
recordings are answered by hand)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from ivr.errors import FlowErrors
from ivr.flow import actions as act
from ivr.flow.engine import Engine
from ivr.flow.events import Digits, Event, HungUp, Recorded, Result, Timeout
from ivr.flow.loader import load_flow
from ivr.flow.model import Flow
from ivr.flow.state import ABANDONED, QUEUED, CallStart, CallState
from ivr.flow.survey_parts import sampled
from ivr.services.registry import HOTLINE_ACTIONS

PROMPTS = {
    name: {"en": f"{name} (en)", "zh": f"{name} (zh)"}
    for name in ("rate", "comment", "speak", "thanks", "bye", "invalid", "silence", "hold")
}
HEADER = """\
version: 1
start: {start}
languages: [en, zh]
prompts: prompts.yaml
defaults:
  language: en
  timeout: 3s
  retries: 2
  invalid_prompt: invalid
  timeout_prompt: silence
queues:
  general: {{priority: 1, skill: general{after}}}
nodes:
"""
SURVEY = """\
survey:
  type: survey
  prompt: rate
  comment_prompt: comment
  record_prompt: speak
  thanks_prompt: thanks
  max_seconds: 30
  sample: {sample}
  skip_reasons: [security]
  next: goodbye
goodbye: {{type: hangup, prompt: bye, outcome: solved}}
"""

Steps = tuple[CallState, list[act.Action]]
Load = Callable[..., Flow]


@pytest.fixture
def load(tmp_path: Path) -> Load:
    def make(nodes: str, start: str = "survey", after: str = "") -> Flow:
        (tmp_path / "prompts.yaml").write_text(json.dumps(PROMPTS), encoding="utf-8")
        after = f", after_agent: {after}" if after else ""
        body = HEADER.format(start=start, after=after) + textwrap.indent(
            textwrap.dedent(nodes), "  "
        )
        (tmp_path / "flow.yaml").write_text(body, encoding="utf-8")
        return load_flow(tmp_path / "flow.yaml", HOTLINE_ACTIONS)

    return make


def survey_engine(load: Load, sample: str = "1", before: str = "") -> Engine:
    nodes = textwrap.dedent(before) + SURVEY.format(sample=sample)
    return Engine(load(nodes, start="start" if before else "survey"))


def run(engine: Engine, *events: str | Event, call_id: str = "call-1") -> Steps:
    state, actions = engine.start(CallStart(call_id, language="en"))
    for event in events:
        state, actions = engine.step(state, Digits(event) if isinstance(event, str) else event)
    return state, actions


def heard(actions: list[act.Action]) -> list[str]:
    return [
        p.id
        for a in actions
        if isinstance(a, act.Play | act.Gather | act.Record)
        for p in a.prompts
    ]


def last(actions: list[act.Action]) -> act.Action:
    assert actions
    return actions[-1]


def test_a_score_is_saved_by_the_use_case_then_the_caller_is_thanked(load: Load) -> None:
    engine = survey_engine(load)
    state, actions = run(engine)
    assert heard(actions) == ["rate"]
    gather = last(actions)
    assert isinstance(gather, act.Gather) and (gather.min_digits, gather.max_digits) == (1, 1)
    state, actions = run(engine, "4", "2")  # 4 stars; 2: no comment
    saving = last(actions)
    assert isinstance(saving, act.RunAction) and saving.name == "record_survey"
    assert saving.args["survey_score"] == "4" and "survey_comment" not in saving.args
    state, actions = engine.step(state, Result("saved"))
    assert heard(actions) == ["thanks", "bye"]
    assert state.outcome == "solved"
    assert state.path[-3:] == ("survey_save", "survey_thanks", "goodbye")


def test_a_wrong_key_is_asked_again_then_a_valid_score_counts(load: Load) -> None:
    engine = survey_engine(load)
    state, actions = run(engine, "7")
    assert heard(actions) == ["invalid", "rate"]
    state, actions = run(engine, "7", "0", "5", Timeout())  # no answer to the comment offer
    saving = last(actions)
    assert isinstance(saving, act.RunAction) and saving.args["survey_score"] == "5"


def test_no_valid_score_in_all_tries_ends_the_survey_without_saving(load: Load) -> None:
    engine = survey_engine(load)
    state, actions = run(engine, Timeout(), Timeout(), Timeout())
    assert not any(isinstance(a, act.RunAction) for a in actions)
    assert heard(actions) == ["bye"]
    assert state.outcome == "solved" and "survey_score" not in state.data


def test_the_sample_decides_by_the_call_id_the_same_way_every_time() -> None:
    ids = [f"call-{n}" for n in range(400)]
    chosen = [i for i in ids if sampled(i, 0.25)]
    assert 60 < len(chosen) < 140  # about a quarter
    assert chosen == [i for i in ids if sampled(i, 0.25)]
    assert all(sampled(i, 1.0) for i in ids) and not any(sampled(i, 0.0) for i in ids)


def test_a_call_out_of_the_sample_goes_straight_on(load: Load) -> None:
    engine = survey_engine(load, sample="0.5")
    inside = next(f"c{n}" for n in range(100) if sampled(f"c{n}", 0.5))
    outside = next(f"c{n}" for n in range(100) if not sampled(f"c{n}", 0.5))
    _, asked = run(engine, call_id=inside)
    state, skipped = run(engine, call_id=outside)
    assert heard(asked) == ["rate"]
    assert heard(skipped) == ["bye"] and state.path == ("survey", "goodbye")


def test_a_security_call_is_not_surveyed(load: Load) -> None:
    before = """\
    start: {type: branch, var: nothing, cases: {}, default: reason}
    reason: {type: say, set: {reason: security}, prompt: hold, next: survey}
    """
    state, actions = run(survey_engine(load, before=before))
    assert heard(actions) == ["hold", "bye"]
    assert "survey_score" not in state.data


def test_a_recorded_comment_goes_with_the_score(load: Load) -> None:
    engine = survey_engine(load)
    state, actions = run(engine, "3", "1")
    record = last(actions)
    assert isinstance(record, act.Record)
    assert heard(actions) == ["speak"] and record.max_seconds == 30
    assert record.name == "call-1-survey_record-3"
    state, actions = engine.step(state, Recorded("call-1-survey_record-3", "x.wav"))
    saving = last(actions)
    assert isinstance(saving, act.RunAction)
    assert saving.args["survey_comment"] == "call-1-survey_record-3"


def test_a_failed_recording_still_saves_the_score(load: Load) -> None:
    engine = survey_engine(load)
    state, actions = run(engine, "2", "1", Recorded(None))
    saving = last(actions)
    assert isinstance(saving, act.RunAction) and saving.args["survey_score"] == "2"
    assert "survey_comment" not in saving.args
    state, actions = engine.step(state, Result("error"))  # and the store is down, too
    assert heard(actions) == ["thanks", "bye"]


def test_a_caller_who_hangs_up_while_recording_abandons_the_call(load: Load) -> None:
    engine = survey_engine(load)
    state, actions = run(engine, "2", "1", HungUp())
    assert state.outcome == ABANDONED and state.node == "survey_record"
    assert actions == []


def test_after_the_agent_the_queue_sends_the_caller_to_its_survey(load: Load) -> None:
    nodes = """\
    start: {type: menu, prompt: hold, choices: {1: queued, 2: unsurveyed}, on_failure: survey}
    queued: {type: queue, queue: general}
    unsurveyed: {type: queue, queue: general, after_agent: ""}
    """
    flow = load(textwrap.dedent(nodes) + SURVEY.format(sample="1"), start="start", after="survey")
    engine = Engine(flow)
    state, actions = run(engine, "1")
    assert state.outcome == QUEUED
    steps = engine.after_agent(state)
    assert steps is not None
    state, actions = steps
    assert state.node == "survey" and state.outcome is None and heard(actions) == ["rate"]
    state, _ = run(engine, "2")  # this queue node takes the survey away
    assert state.outcome == QUEUED and engine.after_agent(state) is None


def test_a_record_node_saves_the_recording_id_under_its_name(load: Load) -> None:
    nodes = """\
    message: {type: record, prompt: speak, max_seconds: 120, save_as: message, next: done,
              on_failure: failed}
    done: {type: hangup, prompt: thanks, outcome: recorded}
    failed: {type: hangup, prompt: bye, outcome: not_recorded}
    """
    engine = Engine(load(nodes, start="message"))
    state, actions = run(engine, Recorded("r1", "r1.wav"))
    assert state.data["message"] == "r1" and state.outcome == "recorded"
    state, _ = run(engine, Recorded(None))
    assert state.outcome == "not_recorded"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("max_seconds: 30", "max_seconds must be from 1 to 300"),
        ("sample: 1", "must be from 0 to 1"),
        ("  record_prompt: speak\n", "a comment_prompt needs a record_prompt"),
    ],
)
def test_a_survey_with_a_bad_setting_does_not_load(load: Load, change: str, problem: str) -> None:
    bad = {
        "max_seconds: 30": "max_seconds: 301",
        "sample: 1": "sample: 1.5",
        "  record_prompt: speak\n": "",
    }[change]
    with pytest.raises(FlowErrors) as caught:
        load(SURVEY.format(sample="1").replace(change, bad))
    assert problem in str(caught.value)


def test_a_node_written_with_the_id_of_a_survey_part_is_refused(load: Load) -> None:
    clash = SURVEY.format(sample="1") + "survey_thanks: {type: hangup}\n"
    with pytest.raises(FlowErrors) as caught:
        load(clash)
    assert "a survey adds a node with this id already" in str(caught.value)
