"""What the engine keeps for the reports, on the real hotline: keys not pressed in time
and wrong keys per node, how the verification went, and how the call left for a person;
and stored states without these keys still load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from start_date import OPEN_TIME

from ivr.flow.engine import Engine
from ivr.flow.events import Digits, Event, Result, Timeout
from ivr.flow.loader import load_flow
from ivr.flow.state import QUEUED, CallStart, CallState
from ivr.services.registry import HOTLINE_ACTIONS

FLOW = Path(__file__).resolve().parents[3] / "callflows.yaml"
ACCOUNT, PIN = "10000001", "246810"
VERIFIED = Result("success", {"account_number": ACCOUNT, "holder_name": "Li Wei"})
WRONG = Result("failure", {})


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_flow(FLOW, HOTLINE_ACTIONS))


def call(engine: Engine, *answers: str | Event) -> CallState:
    """An English caller (no language menu) at opening hours, giving these answers."""
    start = CallStart("c-1", ani="+8613800138001", language="en", started_at=OPEN_TIME.timestamp())
    state, _ = engine.start(start)
    for a in answers:
        state, _ = engine.step(state, Digits(a) if isinstance(a, str) else a)
    return state


def test_timeouts_and_wrong_keys_are_counted_per_node(engine: Engine) -> None:
    state = call(engine, Timeout(), "7", "0")

    assert (dict(state.timeouts), dict(state.invalid)) == ({"main_menu": 1}, {"main_menu": 1})
    assert state.outcome == QUEUED and state.handoff == ("main_menu", "chose")


def test_a_repeat_key_is_not_a_wrong_key(engine: Engine) -> None:
    assert call(engine, "*", "*").invalid == {}


def test_wrong_digits_at_a_gather_count_there(engine: Engine) -> None:
    state = call(engine, "1", "12#", Timeout(), ACCOUNT + "#")

    assert state.invalid == {"ask_account": 1} and state.timeouts == {"ask_account": 1}
    assert state.node == "ask_pin"


def test_tries_used_up_at_a_menu_send_the_call_on_as_failed(engine: Engine) -> None:
    state = call(engine, Timeout(), Timeout(), Timeout())

    assert state.timeouts == {"main_menu": 3}
    assert state.handoff == ("main_menu", "failed") and state.outcome == QUEUED


def test_a_caller_never_verified_goes_to_a_person_as_verify_failed(engine: Engine) -> None:
    tries = [ACCOUNT + "#", "000000", WRONG] * 3
    state = call(engine, "2", *tries)

    assert state.verification == "failure"
    assert state.handoff == ("check_identity", "verify_failed")
    assert PIN not in json.dumps(state.to_dict())


def test_a_locked_account_goes_to_security_as_locked(engine: Engine) -> None:
    state = call(engine, "1", ACCOUNT + "#", PIN, Result("locked", {}))

    assert state.verification == "locked"
    assert state.handoff == ("check_identity", "locked") and state.node == "security_queue"


def test_a_failure_then_success_is_verified_and_self_service_needs_no_person(
    engine: Engine,
) -> None:
    state = call(engine, "1", ACCOUNT + "#", "000000", WRONG, ACCOUNT + "#", PIN, VERIFIED)
    state = call_on(engine, state, Result("sent", {"phone_last4": "8001"}), "9")

    assert state.verification == "success"
    assert state.handoff is None and state.outcome not in (None, QUEUED)


def test_a_failed_use_case_on_the_way_to_a_person_is_an_error(engine: Engine) -> None:
    state = call(engine, "1", ACCOUNT + "#", PIN, VERIFIED, Result("error", {}))

    assert state.handoff == ("reset_send_code", "error")


def test_going_round_the_main_menu_too_often_is_max_visits(engine: Engine) -> None:
    sent = Result("sent", {"phone_last4": "8001"})
    state = call(engine, "1", ACCOUNT + "#", PIN, VERIFIED, sent, "1", "1", sent, "1")
    # the third visit was the last: back to the main menu once more is the 4th
    state = call_on(engine, state, "1", sent, "1")

    assert state.handoff == ("main_menu", "max_visits")


def test_the_new_keys_survive_a_round_trip_and_old_states_still_load(engine: Engine) -> None:
    state = call(engine, Timeout(), "7", "0")
    again = CallState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again == state

    old = state.to_dict()
    for key in ("timeouts", "invalid", "verification", "left", "handoff"):
        del old[key]
    loaded = CallState.from_dict(old)
    assert (loaded.timeouts, loaded.handoff, loaded.verification) == ({}, None, None)


def call_on(engine: Engine, state: CallState, *answers: str | Event) -> CallState:
    for a in answers:
        state, _ = engine.step(state, Digits(a) if isinstance(a, str) else a)
    return state
