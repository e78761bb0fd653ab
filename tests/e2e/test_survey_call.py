"""The post-call survey on a real SIP call into a real Asterisk: a caller completes a
password reset, says that's all, presses 4 at the survey's question and declines the
comment; the answer is in the database. A second caller asks to leave a comment and hangs
up while being recorded: no answer, no recording left behind, the call's record closed.

A third caller waits in the general queue, agent bob's phone answers, bob hangs up: the
caller, still on the line, hears the agent survey (``Dial``'s ``g`` brings the channel back
to the controller), stays silent, and the hotline says goodbye and hangs up; the call's
record stays a call a person took.

These calls use a sandbox of their own running the surveyed copy of the real flow
(``tests/survey_flow.py``: every self-service caller is asked, and the general queue's
callers after their agent), so that the shipped flow's calls elsewhere are not surveyed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from survey_flow import surveyed_flow

from ivr.app.asterisk_sandbox import Sandbox
from ivr.phone.asterisk.writer import AGENT_ENDPOINTS

from . import sipp
from .conftest import PROMPTS, start_sandbox, unavailable
from .contact_calls import (
    TALK,
    channel_of,
    entries,
    hang_up,
    lines_of,
    played,
    to_an_agent,
    wait_connected,
)
from .phones import Phone, agent, contact_center
from .support import LogWatch, sign_in_busy
from .test_branches import (
    RESET,
    SECURITY,
    SLACK,
    Call,
    Plan,
    ask,
    english,
    identify,
    main_menu,
    place,
    rows,
    spoken,
    timeout,
)
from .timeline import Sounds, Timeline

pytestmark = pytest.mark.asterisk


@pytest.fixture(scope="module")
def survey_sandbox(
    tmp_path_factory: pytest.TempPathFactory, prompt_audio: str | None
) -> Iterator[Sandbox]:
    if prompt_audio:
        unavailable(f"the hotline would be silent: {prompt_audio}")
    flow = surveyed_flow(tmp_path_factory.mktemp("surveyed-flow"), general_after_agent=True)
    phones = {name: sipp.free_port() for name in AGENT_ENDPOINTS}
    box = start_sandbox(tmp_path_factory.mktemp("survey-sandbox"), phones, flow_path=flow)
    sign_in_busy(box)
    box.start_fastagi()
    yield box
    box.stop()


def to_the_survey(tl: Timeline) -> Timeline:
    """A password reset with 10000001, then 9 (all set): the survey's question next."""
    main_menu(english(tl), "1", "reset_intro")
    identify(tl, RESET.number, RESET.pin)
    tl.play(*spoken("reset_code_sent", phone_last4=RESET.phone[-4:]))
    return tl.press("9", *ask("anything_else"), timeout=timeout("anything_else"))


def scored_plan(tl: Timeline) -> Plan:
    to_the_survey(tl)
    tl.press("4", *ask("survey_self_service"), timeout=timeout("survey_self_service"))
    tl.press("2", "survey_comment_offer", timeout=timeout("survey_self_service"))
    return Plan(tl, tl.now + tl.seconds("survey_thanks", "goodbye") + SLACK)


def recording_hang_up_plan(tl: Timeline) -> Plan:
    to_the_survey(tl)
    tl.press("2", *ask("survey_self_service"), timeout=timeout("survey_self_service"))
    tl.press("1", "survey_comment_offer", timeout=timeout("survey_self_service"))
    tl.play("survey_record_comment")
    return Plan(tl, tl.now + 4.0)  # hangs up four seconds into the recording


def call(sandbox: Sandbox, folder: Path, name: str, plan: Plan) -> Call:
    return place(sandbox, folder, name, plan, len(sandbox.log_text()))


def sounds(sandbox: Sandbox) -> Sounds:
    return Sounds(PROMPTS / "en", sandbox.run / "data" / "sounds" / "en" / "digits")


def test_a_caller_scores_the_call_after_self_service(
    survey_sandbox: Sandbox, tmp_path: Path
) -> None:
    done = call(survey_sandbox, tmp_path, "survey", scored_plan(Timeline(sounds(survey_sandbox))))
    assert done.result.ok, done.why()
    played = done.played()
    assert played[-3:] == ["en/survey_comment_offer", "en/survey_thanks", "en/goodbye"], done.why()
    assert "en/survey_score" in played, done.why()
    assert done.record["outcome"] == "solved", done.record
    assert "survey_self_service_save" in done.record["path"], done.record
    [answer] = rows(survey_sandbox, "survey_answers", call_id=done.record["call_id"])
    assert (answer["score"], answer["queue"], answer["comment_recording"]) == (4, None, None)
    assert SECURITY.number  # the security branch is never surveyed (tested on the terminal)


def test_a_caller_who_hangs_up_while_recorded_leaves_no_answer_and_no_file(
    survey_sandbox: Sandbox, tmp_path: Path
) -> None:
    plan = recording_hang_up_plan(Timeline(sounds(survey_sandbox)))
    done = call(survey_sandbox, tmp_path, "survey-gone", plan)
    assert "RECORD FILE" in done.log or "survey_self_service_record" in str(done.record["path"])
    assert done.record["outcome"] == "abandoned", done.record
    assert done.record["last_node"] == "survey_self_service_record", done.record
    call_id = done.record["call_id"]
    time.sleep(1.0)  # the controller deletes the partial file after Asterisk's reply
    assert rows(survey_sandbox, "survey_answers", call_id=call_id) == []
    assert rows(survey_sandbox, "recordings", call_id=call_id) == []
    folder = survey_sandbox.run / "recordings"
    left = [p.name for p in folder.iterdir()] if folder.exists() else []
    assert not [name for name in left if call_id in name], left


def test_after_the_agent_hangs_up_the_caller_hears_the_agent_survey(
    survey_sandbox: Sandbox, tmp_path: Path
) -> None:
    center = contact_center(survey_sandbox)
    bob = agent(center, "bob")
    log = LogWatch(survey_sandbox)
    tl = to_an_agent(sounds(survey_sandbox))
    caller = sipp.start(
        survey_sandbox.sip_port, tl.presses(), 120, tmp_path / "caller", "e2e-rated"
    )
    phone: Phone | None = None
    channel = ""
    try:
        channel, tag = channel_of(log, "e2e-rated")
        log.wait_for(rf"\[{tag}\].*Playing 'moh/hold-\d\.", timeout=40)
        phone = Phone(survey_sandbox, "agent-bob", tmp_path / "bob")
        center.set_availability(bob.id, True)
        dial = log.wait_for(
            rf"\[{tag}\].*AGI Script Executing Application: \(Dial\) "
            r"Options: \((PJSIP/agent-bob,20,gU\(hotline-answered\^(\d+)\))\)"
        )
        entry_id = int(dial.group(2))
        answered = log.wait_for(
            r'Executing \[s@hotline-answered:1\] NoOp\("(PJSIP/agent-bob-[0-9a-f]+)", '
            rf'"IVR agent answered entry {entry_id}"\)'
        )
        wait_connected(survey_sandbox, entry_id)
        time.sleep(TALK)
        survey_sandbox.rx(f"channel request hangup {answered.group(1)}")  # bob hangs up
        result = caller.wait()
    finally:
        hang_up(survey_sandbox, caller, channel)
        if phone:
            phone.stop()
        center.set_availability(bob.id, False)

    text = lines_of(log, f"[{tag}]", channel)
    heard = played(text)
    assert result.ok, result.errors
    assert result.hung_up_by == "hotline", text[-3000:]
    after = heard[heard.index("en/agent_connecting") :]
    assert after[1] == "en/survey_agent_score" and after[-1] == "en/goodbye", heard
    [entry] = entries(survey_sandbox, id=entry_id)
    assert (entry["state"], entry["queue"], entry["agent_id"]) == ("done", "general", bob.id)
    [record] = rows(survey_sandbox, "call_records", call_id=entry["call_id"])
    assert (record["outcome"], record["last_node"]) == ("queued", "goodbye"), record
    assert rows(survey_sandbox, "survey_answers", call_id=entry["call_id"]) == []  # silent
