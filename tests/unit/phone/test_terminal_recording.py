"""The terminal phone records a comment: what the caller types while recorded is what they
"say", kept as a small file in the recordings folder, interactive or scripted; silence
records nothing, and a folder that cannot be written records nothing either."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import Dialer

from ivr.flow.engine import Engine
from ivr.flow.events import Result
from ivr.phone import terminal
from ivr.services.usecases import UseCases

RESET = ["1", "1", "10000001#", "246810", "9"]  # a password reset, then "that's all"


@pytest.fixture
def surveyed(hotline: Dialer, use_cases: UseCases) -> tuple[Dialer, list[dict[str, str]]]:
    """The real flow with every self-service caller surveyed, its answers captured."""
    flow = hotline.engine.flow
    survey = replace(flow.nodes["survey_self_service"], sample=1.0)
    engine = Engine(replace(flow, nodes={**flow.nodes, "survey_self_service": survey}))
    answers: list[dict[str, str]] = []

    def record_survey(args: Mapping[str, str]) -> Result:
        answers.append(dict(args))
        return Result("saved")

    use_cases.provide("record_survey", record_survey)
    return Dialer(engine, use_cases, hotline.clock), answers


def test_a_typed_line_is_the_comment_in_an_interactive_call(
    surveyed: tuple[Dialer, list[dict[str, str]]], tmp_path: Path
) -> None:
    dialer, answers = surveyed
    lines = iter([*RESET, "4", "1", "the code came fast"])
    shown: list[str] = []
    session = dialer.session(call_id="term-1")
    terminal.run_interactive(session, lambda _p, _s: next(lines), shown.append, tmp_path)
    assert any("survey_self_service_record: recording" in line for line in shown), shown
    [answer] = answers
    assert answer["survey_score"] == "4"
    kept = tmp_path / f"{answer['survey_comment']}.txt"
    assert kept.read_text(encoding="utf-8") == "the code came fast\n"
    assert session.state is not None and session.state.outcome == "solved"


def test_silence_while_recorded_records_nothing(
    surveyed: tuple[Dialer, list[dict[str, str]]], tmp_path: Path
) -> None:
    dialer, answers = surveyed
    events = terminal.parse_keys(" ".join([*RESET, "5", "1", "t"]))
    assert terminal.run_scripted(dialer.session(), events, None, tmp_path)
    assert "survey_comment" not in answers[0] and list(tmp_path.iterdir()) == []


def test_a_say_token_outside_a_recording_is_silence(
    surveyed: tuple[Dialer, list[dict[str, str]]],
) -> None:
    dialer, answers = surveyed
    events = terminal.parse_keys(" ".join([*RESET, "say:hello", "say:again"]))
    assert terminal.run_scripted(dialer.session(), events, None, None)
    assert answers == []  # no score: the survey asked twice and went on


def test_speech_is_bounded_and_checked() -> None:
    assert terminal.parse_token("say:too_slow") == terminal.Speech("too slow")
    with pytest.raises(terminal.BadKeys):
        terminal.parse_token("say:" + "x" * 501)
    with pytest.raises(terminal.BadKeys):
        terminal.parse_token("say:rm -rf")
