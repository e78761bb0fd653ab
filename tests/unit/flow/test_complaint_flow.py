"""Main menu 5: a complaint. The engine on the real flow: the caller is verified, hears the
status of a complaint not yet resolved or chooses a category, and hears the new reference
twice; a use case that fails (the database away) sends them to the safe route."""

from __future__ import annotations

import pytest
from test_engine import ACCOUNT, PIN, VERIFIED, call, gather, prompt_ids, run_action, waits_for

from ivr.flow import actions as act
from ivr.flow.engine import Engine
from ivr.flow.events import Digits, Recorded, Result

OPENED = Result("opened", {"complaint_reference": "51880263", "resolve_date": "December 8"})


def complaint_call(engine: Engine, *answers: object) -> tuple[object, list[act.Action]]:
    return call(engine, "5", ACCOUNT + "#", PIN, VERIFIED, *answers)  # type: ignore[arg-type]


def test_5_verifies_then_looks_for_an_open_complaint(engine: Engine) -> None:
    state, actions = complaint_call(engine)
    run = run_action(actions)
    assert run.name == "complaint_status" and run.args["reason"] == "complaint"
    assert "complaint_intro" in state.path  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("key", "category"),
    [("1", "payment"), ("2", "fees"), ("3", "service"), ("4", "security"), ("5", "other")],
)
def test_a_category_chosen_by_keypad_opens_the_complaint(
    engine: Engine, key: str, category: str
) -> None:
    state, actions = complaint_call(engine, Result("none"), key, "2")  # 2: no message
    run = run_action(actions)
    assert run.name == "open_complaint" and run.args["complaint_category"] == category


def test_the_reference_is_said_twice(engine: Engine) -> None:
    state, actions = complaint_call(engine, Result("none"), "2", "2", OPENED)
    play = next(a for a in actions if isinstance(a, act.Play))
    [opened] = [p for p in play.prompts if p.id == "complaint_opened"]
    assert opened.text.count("51880263") == 2 and "December 8" in opened.text
    assert gather(actions).node == "anything_else"


def test_an_open_complaint_is_told_and_a_new_one_can_follow(engine: Engine) -> None:
    data = {"complaint_reference": "51880263", "acknowledge_date": "December 2"}
    state, actions = complaint_call(engine, Result("acknowledged", data | {"resolve_date": "x"}))
    assert prompt_ids(actions)[:2] == [
        "complaint_status_acknowledged",
        "complaint_existing_options",
    ]
    state, actions = engine.step(state, Digits("2"))  # type: ignore[arg-type]
    assert gather(actions).node == "complaint_category"


def test_a_failed_opening_goes_to_the_apology_and_a_person(engine: Engine) -> None:
    state, actions = complaint_call(engine, Result("none"), "1", "2", Result("error"))
    assert prompt_ids(actions)[0] == "system_error"
    assert isinstance(waits_for(actions), act.Enqueue)  # OPEN: a Monday morning


def test_a_message_in_the_callers_own_words_is_kept_with_the_complaint(engine: Engine) -> None:
    state, actions = complaint_call(engine, Result("none"), "3")
    assert gather(actions).node == "complaint_message_offer"
    state, actions = engine.step(state, Digits("1"))  # type: ignore[arg-type]
    record = waits_for(actions)
    assert isinstance(record, act.Record) and record.node == "complaint_message"
    assert record.max_seconds == 120
    state, actions = engine.step(state, Recorded("call-1-complaint_message-1", "x.wav"))  # type: ignore[arg-type]
    run = run_action(actions)
    assert run.name == "open_complaint"
    assert run.args["complaint_recording"] == "call-1-complaint_message-1"


@pytest.mark.parametrize("answer", [Recorded(None), Digits("")])
def test_no_message_recorded_or_no_answer_opens_the_complaint_all_the_same(
    engine: Engine, answer: object
) -> None:
    keys = ("1",) if isinstance(answer, Recorded) else ("", "")  # "": no key in time
    state, actions = complaint_call(engine, Result("none"), "5", *keys)
    if isinstance(answer, Recorded):
        state, actions = engine.step(state, answer)  # type: ignore[arg-type]
    run = run_action(actions)
    assert run.name == "open_complaint" and "complaint_recording" not in run.args
