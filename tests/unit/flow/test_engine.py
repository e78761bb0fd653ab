"""The pure engine, on the real hotline and on tiny flows written for one rule each.

Use cases are not run here: the tests answer every ``RunAction`` with a ``Result`` by hand.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeAlias
from zoneinfo import ZoneInfo

import pytest
from start_date import OPEN_TIME

from ivr.errors import EngineError, FlowErrors, IvrError
from ivr.flow import actions as act
from ivr.flow import nodes
from ivr.flow.engine import Engine
from ivr.flow.events import Digits, Event, HungUp, Result, Timeout
from ivr.flow.loader import load_flow
from ivr.flow.model import Flow
from ivr.flow.state import ABANDONED, QUEUED, TRANSFERRED, CallStart, CallState
from ivr.services.registry import HOTLINE_ACTIONS

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPEN = OPEN_TIME  # a Monday morning in Beijing (the suite's chosen start)
PIN = "246810"
ACCOUNT = "10000001"
VERIFIED = Result("success", {"account_number": ACCOUNT, "holder_name": "Li Wei"})

Steps: TypeAlias = tuple[CallState, list[act.Action]]
Answer: TypeAlias = str | Event  # a string is keys (Digits)


# -- helpers -------------------------------------------------------------------------------


def prompt_ids(actions: Sequence[act.Action]) -> list[str]:
    """Every prompt the caller hears, in order."""
    return [p.id for a in actions if isinstance(a, act.Play | act.Gather) for p in a.prompts]


def texts(actions: Sequence[act.Action]) -> list[str]:
    return [p.text for a in actions if isinstance(a, act.Play | act.Gather) for p in a.prompts]


def waits_for(actions: Sequence[act.Action]) -> act.Action:
    assert actions, "the engine returned no actions"
    return actions[-1]


def gather(actions: Sequence[act.Action]) -> act.Gather:
    last = waits_for(actions)
    assert isinstance(last, act.Gather), f"expected a Gather, got {last!r}"
    return last


def run_action(actions: Sequence[act.Action]) -> act.RunAction:
    last = waits_for(actions)
    assert isinstance(last, act.RunAction), f"expected a RunAction, got {last!r}"
    return last


def answer(engine: Engine, steps: Steps, *answers: Answer) -> Steps:
    state, actions = steps
    for a in answers:
        state, actions = engine.step(state, Digits(a) if isinstance(a, str) else a)
    return state, actions


def call(
    engine: Engine,
    *answers: Answer,
    language: str | None = "en",
    at: datetime = OPEN,
) -> Steps:
    """Start a call and give it these answers, in order."""
    start = CallStart("call-1", ani="+8613800138001", language=language, started_at=at.timestamp())
    return answer(engine, engine.start(start), *answers)


def verified(engine: Engine, menu_key: str) -> Steps:
    """An English caller who chose ``menu_key`` and has just been verified."""
    return call(engine, menu_key, ACCOUNT + "#", PIN, VERIFIED)


# -- tiny flows --------------------------------------------------------------------------

TINY_PROMPTS = {
    name: {"en": f"{name} (en)", "zh": f"{name} (zh)"}
    for name in ("ask", "hello", "bye", "invalid", "silence", "retry", "pin", "sorry")
}
TINY_HEADER = """\
version: 1
start: {start}
languages: [en, zh]
prompts: prompts.yaml
defaults:
  language: {language}
  timeout: 3s
  retries: 2
  invalid_prompt: invalid
  timeout_prompt: silence
queues:
  general: {{priority: 1, skill: general}}
nodes:
"""

TinyFlow = Callable[..., Flow]


@pytest.fixture
def tiny(tmp_path: Path) -> TinyFlow:
    """Write a flow (``nodes:`` given as YAML text) and its catalog to tmp_path; load it."""

    def make(nodes: str, *, start: str, language: str = "en") -> Flow:
        (tmp_path / "prompts.yaml").write_text(json.dumps(TINY_PROMPTS), encoding="utf-8")
        body = TINY_HEADER.format(start=start, language=language)
        body += textwrap.indent(textwrap.dedent(nodes), "  ")
        path = tmp_path / "flow.yaml"
        path.write_text(body, encoding="utf-8")
        return load_flow(path, HOTLINE_ACTIONS)

    return make


MENU_FLOW = """\
menu:
  type: menu
  prompt: ask
  choices: {1: one, 2: two, 3: three, "*": repeat}
  on_failure: failed
one: {type: hangup, prompt: bye, outcome: chose_one}
two: {type: transfer, to: "PJSIP/two"}
three: {type: queue, queue: general, priority: 7, callback: never}
failed: {type: hangup, outcome: failed}
"""


@pytest.fixture
def menu_engine(tiny: TinyFlow) -> Engine:
    return Engine(tiny(MENU_FLOW, start="menu"))


# -- starting a call -------------------------------------------------------------------------


def test_a_call_with_no_known_language_is_asked_for_one(engine: Engine) -> None:
    state, actions = call(engine, language=None)

    assert state.node == "choose_language"
    assert state.language == "en" and not state.language_known
    assert gather(actions).node == "choose_language"
    assert (gather(actions).min_digits, gather(actions).max_digits) == (1, 1)


def test_a_known_language_skips_the_language_menu(engine: Engine) -> None:
    state, actions = call(engine, language="zh")

    assert state.language == "zh"
    assert prompt_ids(actions) == ["welcome", "main_menu"]
    assert all(p.language == "zh" for a in actions if isinstance(a, act.Play) for p in a.prompts)
    assert "欢迎" in texts(actions)[0]


def test_a_language_the_flow_does_not_speak_is_asked_for_again(engine: Engine) -> None:
    state, actions = call(engine, language="fr")

    assert state.language == "en"
    assert gather(actions).node == "choose_language"


def test_the_call_data_starts_with_what_the_driver_knows(engine: Engine) -> None:
    start = CallStart("abc", ani="+1555", dnid="95188", language="en", started_at=OPEN.timestamp())

    state, _ = engine.start(start)

    assert dict(state.data) == {"ani": "+1555", "dnid": "95188", "call_id": "abc", "language": "en"}


# -- the language node -------------------------------------------------------------------------


def test_choosing_chinese_switches_every_following_prompt(engine: Engine) -> None:
    state, actions = call(engine, "2", language=None)

    assert state.language == "zh" and state.language_known
    assert state.data["language"] == "zh"
    assert act.SetData("language", "zh") in actions
    assert prompt_ids(actions) == ["welcome", "main_menu"]
    spoken = {
        p.language for a in actions if isinstance(a, act.Play | act.Gather) for p in a.prompts
    }
    assert spoken == {"zh"}


def test_a_wrong_key_at_the_language_menu_is_answered_and_asked_again(engine: Engine) -> None:
    state, actions = call(engine, "7", language=None)

    assert state.node == "choose_language" and state.tries == 1
    assert prompt_ids(actions) == ["invalid_choice", "choose_language"]


def test_silence_at_the_language_menu_ends_in_the_default_language(engine: Engine) -> None:
    state, actions = call(engine, Timeout(), language=None)
    assert prompt_ids(actions) == ["no_input", "choose_language"]

    state, actions = answer(engine, (state, actions), Timeout())  # retries: 1, so 2 tries

    assert state.language == "en" and state.language_known
    assert act.SetData("language", "en") in actions
    assert gather(actions).node == "main_menu"


def test_the_language_default_is_the_nodes_own(tiny: TinyFlow) -> None:
    flow = tiny(
        """\
        lang:
          type: language
          prompt: ask
          choices: {1: en, 2: zh}
          retries: 0
          default: zh
          next: bye
        bye: {type: hangup, prompt: bye}
        """,
        start="lang",
    )
    engine = Engine(flow)

    state, actions = answer(engine, engine.start(CallStart("c")), Timeout())

    assert state.language == "zh" and state.outcome == "solved"
    assert texts(actions) == ["bye (zh)"]


# -- menus -------------------------------------------------------------------------------------


def test_a_menu_choice_goes_to_its_node(engine: Engine) -> None:
    state, actions = call(engine, "1")

    assert state.node == "ask_account"
    assert state.data["reason"] == "password_reset"
    assert actions[0] == act.SetData("reason", "password_reset")
    assert prompt_ids(actions) == ["reset_intro", "enter_account_number"]


@pytest.mark.parametrize("keys", ["7", "#", "12", "x"])
def test_a_wrong_key_plays_the_invalid_prompt_and_asks_again(engine: Engine, keys: str) -> None:
    state, actions = call(engine, keys)

    assert state.node == "main_menu" and state.tries == 1
    assert prompt_ids(actions) == ["invalid_choice", "main_menu"]


def test_silence_plays_the_timeout_prompt_and_asks_again(engine: Engine) -> None:
    state, actions = call(engine, Timeout())

    assert state.tries == 1
    assert prompt_ids(actions) == ["no_input", "main_menu"]
    assert gather(actions).timeout == 6.0


def test_the_tries_used_up_go_to_on_failure(engine: Engine) -> None:
    state, actions = call(engine, "7", Timeout())
    assert not state.ended  # two re-prompts (retries: 2), so a third try

    state, actions = answer(engine, (state, actions), "7")

    assert state.outcome == QUEUED
    assert state.path[-2:] == ("agent_hours", "agent")
    assert isinstance(waits_for(actions), act.Enqueue)


def test_a_right_key_after_wrong_ones_still_counts(engine: Engine) -> None:
    state, _ = call(engine, "7", Timeout(), "2")

    assert state.node == "ask_account"
    assert state.tries == 0  # a new node starts with fresh tries


def test_star_repeats_the_menu_without_an_error_prompt(engine: Engine) -> None:
    state, actions = call(engine, "*")

    assert state.node == "main_menu"
    assert prompt_ids(actions) == ["main_menu"]


def test_repeat_counts_as_a_try(engine: Engine) -> None:
    state, actions = call(engine, "*", "*", "*")

    assert state.outcome == QUEUED
    assert "agent_hours" in state.path


def test_tiny_menu_routes_each_choice(menu_engine: Engine) -> None:
    start = menu_engine.start(CallStart("c"))

    one, actions = answer(menu_engine, start, "1")
    assert one.outcome == "chose_one"
    assert prompt_ids(actions) == ["bye"] and actions[-1] == act.Hangup("chose_one")

    two, actions = answer(menu_engine, start, "2")
    assert two.outcome == TRANSFERRED and actions == [act.Transfer("PJSIP/two")]

    three, actions = answer(menu_engine, start, "3")
    assert three.outcome == QUEUED
    assert actions == [act.Enqueue("general", 7, "general", "never", "en")]


def test_tiny_menu_fails_after_the_retries(menu_engine: Engine) -> None:
    state, actions = answer(menu_engine, menu_engine.start(CallStart("c")), "9", "9")
    assert prompt_ids(actions) == ["invalid", "ask"]

    state, actions = answer(menu_engine, (state, actions), "9")

    assert state.outcome == "failed" and actions == [act.Hangup("failed")]


# -- gathers -----------------------------------------------------------------------------------


def test_the_finish_key_ends_the_digits_and_is_not_saved(engine: Engine) -> None:
    state, actions = call(engine, "1", ACCOUNT + "#")

    assert state.data["account_number"] == ACCOUNT
    assert gather(actions).node == "ask_pin"


def test_the_finish_key_may_be_left_out(engine: Engine) -> None:
    state, _ = call(engine, "1", ACCOUNT)

    assert state.data["account_number"] == ACCOUNT


@pytest.mark.parametrize(
    "keys",
    [
        "1234567#",  # too few
        "123456789#",  # too many
        "123456789",  # too many, no finish key
        "1000*001#",  # not digits
        "10000001##",  # the finish key once too often
        "#10000001",  # the finish key first
    ],
)
def test_wrong_digits_are_a_wrong_answer(engine: Engine, keys: str) -> None:
    state, actions = call(engine, "1", keys)

    assert state.node == "ask_account" and state.tries == 1
    assert "account_number" not in state.data
    assert prompt_ids(actions) == ["invalid_choice", "enter_account_number"]


def test_silence_at_a_gather_plays_the_timeout_prompt(engine: Engine) -> None:
    state, actions = call(engine, "1", Timeout())

    assert prompt_ids(actions) == ["no_input", "enter_account_number"]


def test_only_the_finish_key_is_too_few_digits(engine: Engine) -> None:
    state, actions = call(engine, "1", "#")

    assert prompt_ids(actions) == ["invalid_choice", "enter_account_number"]


@pytest.mark.parametrize(
    "keys",
    ["²²²²²²²²#", "١٠٠٠٠٠٠١#", "１０００００００#"],
    ids=["superscript", "arabic", "fullwidth"],
)
def test_only_keypad_digits_are_digits(engine: Engine, keys: str) -> None:
    state, actions = call(engine, "1", keys)

    assert state.node == "ask_account" and "account_number" not in state.data


def test_a_gather_fails_after_its_retries(engine: Engine) -> None:
    state, actions = call(engine, "1", "1", Timeout(), "1#")

    assert state.outcome == QUEUED
    assert state.path[-3:] == ("ask_account", "agent_hours", "agent")


def test_digits_without_finish_key_where_none_is_expected(engine: Engine) -> None:
    # ask_pin has no finish key: a "#" after the PIN makes it a wrong answer
    state, actions = call(engine, "1", ACCOUNT + "#", PIN + "#")

    assert state.node == "ask_pin" and state.tries == 1
    assert gather(actions).secure


def test_gather_length_limits_on_a_tiny_flow(tiny: TinyFlow) -> None:
    flow = tiny(
        """\
        code:
          type: gather
          prompt: ask
          min_digits: 2
          max_digits: 4
          finish_key: "*"
          save_as: code
          next: done
          on_failure: failed
        done: {type: hangup, outcome: got_code}
        failed: {type: hangup, outcome: no_code}
        """,
        start="code",
    )
    engine = Engine(flow)
    start = engine.start(CallStart("c"))
    g = gather(start[1])
    assert (g.min_digits, g.max_digits, g.finish_key, g.secure) == (2, 4, "*", False)

    for keys, saved in [("12*", "12"), ("1234", "1234"), ("1234*", "1234"), ("99", "99")]:
        state, _ = answer(engine, start, keys)
        assert (state.outcome, state.data["code"]) == ("got_code", saved), keys
    for keys in ["1*", "1", "12345", "12345*", "12#"]:
        state, actions = answer(engine, start, keys)
        assert state.tries == 1 and prompt_ids(actions) == ["invalid", "ask"], keys


# -- type-ahead: keys pressed during the announcements before a question ----------------------


def test_the_welcome_can_be_typed_through_to_the_main_menu(engine: Engine) -> None:
    _, actions = call(engine)
    menu = gather(actions)
    assert prompt_ids(actions) == ["welcome", "main_menu"]
    assert menu.type_ahead and act.typed_ahead_into(actions) is menu


def test_every_input_node_of_the_hotline_takes_type_ahead(engine: Engine) -> None:
    asking = [n for n in engine.flow.nodes.values() if isinstance(n, nodes.Input)]
    assert asking and all(n.type_ahead for n in asking)


TYPE_AHEAD_FLOW = """hello: {type: say, prompt: hello, next: code}
code:
  type: gather
  prompt: pin
  min_digits: 4
  max_digits: 4
  save_as: code
  type_ahead: false
  next: done
  on_failure: failed
done: {type: hangup, outcome: got_code}
failed: {type: hangup, outcome: no_code}
"""


def test_a_node_without_type_ahead_keeps_its_announcements_whole(tiny: TinyFlow) -> None:
    engine = Engine(tiny(TYPE_AHEAD_FLOW, start="hello"))
    _, actions = engine.start(CallStart("c"))
    assert prompt_ids(actions) == ["hello", "pin"]
    assert not gather(actions).type_ahead and act.typed_ahead_into(actions) is None


def test_only_a_closing_gather_takes_keys_typed_ahead(engine: Engine) -> None:
    play = act.Play((act.Prompt("welcome", "en", "Welcome."),))
    ask = act.Gather("main_menu", (), 1, 1, 5.0)
    assert act.typed_ahead_into([play, act.SetData("language", "en"), ask]) is ask
    assert act.typed_ahead_into([ask, play]) is None
    assert act.typed_ahead_into([play, act.Hangup("solved")]) is None
    assert act.typed_ahead_into([]) is None


# -- secure gathers: the PIN goes to the use case and nowhere else ------------------------------


def test_the_pin_goes_straight_to_the_verify_use_case(engine: Engine) -> None:
    state, actions = call(engine, "2", ACCOUNT + "#", PIN)

    run = run_action(actions)
    assert (run.node, run.name) == ("check_identity", "verify_identity")
    assert run.args == {
        "account_number": ACCOUNT,
        "pin": PIN,
        "ani": "+8613800138001",
        "call_id": run.args["call_id"],
        "language": "en",
    }
    assert run.args["call_id"]  # the lockout incident names its call
    assert run.secure == frozenset({"pin"})
    assert run.public_args()["pin"] == act.MASK


def test_the_pin_is_in_no_state_and_no_printed_action(engine: Engine) -> None:
    steps = call(engine, "2", ACCOUNT + "#")
    seen: list[Steps] = [steps]
    for event in (Digits(PIN), Result("failure"), Digits(ACCOUNT + "#"), Digits(PIN), VERIFIED):
        steps = engine.step(steps[0], event)
        seen.append(steps)

    for state, actions in seen:
        assert PIN not in json.dumps(state.to_dict())
        assert PIN not in repr(state) and PIN not in str(state)
        assert PIN not in repr(actions) and PIN not in str(actions)
        assert all(PIN not in repr(a) for a in actions)


def test_a_secure_gather_says_so_to_the_driver(engine: Engine) -> None:
    _, actions = call(engine, "1", ACCOUNT + "#")

    g = gather(actions)
    assert g.secure and (g.min_digits, g.max_digits) == (6, 6)


def test_a_wrong_length_pin_is_not_kept_either(engine: Engine) -> None:
    state, actions = call(engine, "1", ACCOUNT + "#", "2468101")

    assert state.node == "ask_pin" and state.tries == 1
    assert "2468101" not in json.dumps(state.to_dict()) + repr(actions)


def test_secure_digits_reach_an_action_masked(tiny: TinyFlow) -> None:
    flow = tiny(
        """\
        code:
          type: gather
          prompt: pin
          min_digits: 4
          max_digits: 4
          save_as: code
          secure: true
          next: freeze
          on_failure: bye
        freeze:
          type: action
          action: freeze_account
          outcomes: {frozen: bye, already_frozen: bye}
          on_error: bye
        bye: {type: hangup, prompt: bye}
        """,
        start="code",
    )
    engine = Engine(flow)

    state, actions = answer(engine, engine.start(CallStart("c")), "9876")

    run = run_action(actions)
    assert run.args["code"] == "9876" and run.secure == frozenset({"code"})
    assert "9876" not in repr(run) + json.dumps(state.to_dict())
    state, _ = engine.step(state, Result("frozen", {"incident": "050001"}))
    assert "9876" not in json.dumps(state.to_dict())


# -- verify --------------------------------------------------------------------------------------


def test_verify_success_marks_the_caller_and_continues_the_branch(engine: Engine) -> None:
    state, actions = verified(engine, "2")

    assert state.data["verified"] == "yes"
    assert state.data["account_number"] == ACCOUNT and state.data["holder_name"] == "Li Wei"
    assert act.SetData("holder_name", "Li Wei") in actions
    run = run_action(actions)
    assert (run.node, run.name) == ("payment_lookup", "lookup_failed_payment")
    assert run.args["verified"] == "yes" and run.args["account_number"] == ACCOUNT
    assert "pin" not in run.args


@pytest.mark.parametrize(
    ("menu_key", "node", "use_case"),
    [
        ("1", "reset_send_code", "send_reset_code"),
        ("2", "payment_lookup", "lookup_failed_payment"),
        ("3", "closure_check", "check_closure"),
        ("4", "freeze_account", "freeze_account"),
    ],
)
def test_each_branch_continues_after_verify(
    engine: Engine, menu_key: str, node: str, use_case: str
) -> None:
    _, actions = verified(engine, menu_key)

    run = run_action(actions)
    assert (run.node, run.name) == (node, use_case)


def test_a_wrong_pin_plays_the_retry_prompt_and_asks_again(engine: Engine) -> None:
    state, actions = call(engine, "2", ACCOUNT + "#", "111111", Result("failure"))

    assert state.attempts == {"check_identity": 1}
    assert prompt_ids(actions) == ["verify_retry", "enter_account_number"]
    assert gather(actions).node == "ask_account"


def test_the_last_attempt_goes_to_on_failure(engine: Engine) -> None:
    wrong = (ACCOUNT + "#", "111111", Result("failure"))
    state, actions = call(engine, "2", *wrong, *wrong)
    assert not state.ended

    state, actions = answer(engine, (state, actions), *wrong)

    assert state.attempts == {"check_identity": 3}
    assert "verify_failed" in prompt_ids(actions)
    assert state.path[-3:] == ("verify_failed", "agent_hours", "agent")
    assert state.outcome == QUEUED


def test_a_locked_account_goes_to_the_security_queue(engine: Engine) -> None:
    state, actions = call(engine, "2", ACCOUNT + "#", PIN, Result("locked"))

    assert prompt_ids(actions) == ["account_locked", "transferring_to_security"]
    assert waits_for(actions) == act.Enqueue("security", 10, "security", "offer", "en")
    assert state.outcome == QUEUED and "verified" not in state.data


@pytest.mark.parametrize("outcome", ["error", "timeout", ""])
def test_a_verify_error_or_unknown_outcome_goes_to_on_error(engine: Engine, outcome: str) -> None:
    state, actions = call(engine, "2", ACCOUNT + "#", PIN, Result(outcome))

    assert prompt_ids(actions)[0] == "system_error"
    assert state.path[-3:] == ("system_error", "agent_hours", "agent")
    assert "verified" not in state.data


def test_a_verified_caller_is_not_asked_again(engine: Engine) -> None:
    steps = verified(engine, "1")
    steps = answer(engine, steps, Result("sent", {"phone_last4": "8001"}), "1", "2")

    state, actions = steps
    run = run_action(actions)
    assert run.name == "lookup_failed_payment"
    assert "ask_account" not in state.path[state.path.index("payment_intro") :]


def test_verify_attempts_and_error_route_on_a_tiny_flow(tiny: TinyFlow) -> None:
    flow = tiny(
        """\
        account:
          type: gather
          prompt: ask
          min_digits: 2
          max_digits: 2
          save_as: acct
          next: pin
          on_failure: bye
        pin:
          type: gather
          prompt: pin
          min_digits: 4
          max_digits: 4
          save_as: secret
          secure: true
          next: check
          on_failure: bye
        check:
          type: verify
          account: acct
          pin: secret
          attempts: 2
          retry: account
          on_success: yes_you
          on_failure: not_you
          on_locked: locked
          on_error: broken
        yes_you: {type: hangup, outcome: verified}
        not_you: {type: hangup, outcome: not_verified}
        locked: {type: hangup, outcome: locked}
        broken: {type: hangup, outcome: broken}
        bye: {type: hangup}
        """,
        start="account",
    )
    engine = Engine(flow)
    start = engine.start(CallStart("c"))

    steps = answer(engine, start, "12", "1234")
    assert run_action(steps[1]).args["account_number"] == "12"
    assert run_action(steps[1]).args["pin"] == "1234"
    steps = answer(engine, steps, Result("failure"))
    assert prompt_ids(steps[1]) == ["ask"]  # no retry_prompt: straight back to the account
    assert answer(engine, steps, "12", "1234", Result("failure"))[0].outcome == "not_verified"
    assert answer(engine, steps, "12", "1234", Result("success"))[0].outcome == "verified"
    assert answer(engine, start, "12", "1234", Result("locked"))[0].outcome == "locked"
    assert answer(engine, start, "12", "1234", Result("error"))[0].outcome == "broken"


# -- actions -------------------------------------------------------------------------------------


def test_an_action_outcome_picks_the_next_node_and_adds_its_data(engine: Engine) -> None:
    found = Result(
        "found",
        {
            "amount": "89.90 yuan",
            "merchant": "Fresh Mart",
            "date": "November 20",
            "failure_reason": "insufficient_funds",
        },
    )
    state, actions = answer(engine, verified(engine, "2"), found)

    assert state.data["amount"] == "89.90 yuan"
    assert act.SetData("failure_reason", "insufficient_funds") in actions
    assert prompt_ids(actions) == [
        "payment_failed_summary",
        "payment_reason_insufficient_funds",
        "payment_followup",
    ]
    assert texts(actions)[0] == (
        "Your most recent failed payment was 89.90 yuan to Fresh Mart on November 20."
    )
    assert gather(actions).node == "payment_followup"


def test_another_outcome_goes_elsewhere(engine: Engine) -> None:
    state, actions = answer(engine, verified(engine, "2"), Result("none"))

    assert prompt_ids(actions) == ["no_failed_payment", "anything_else"]
    assert state.node == "payment_none_menu"


@pytest.mark.parametrize("outcome", ["error", "exploded", "found "])
def test_an_error_or_unknown_outcome_goes_to_on_error(engine: Engine, outcome: str) -> None:
    state, actions = answer(engine, verified(engine, "2"), Result(outcome))

    assert prompt_ids(actions)[:2] == ["system_error", "transferring_to_agent"]
    assert state.path[-3:] == ("system_error", "agent_hours", "agent")


def test_a_value_with_no_prompt_is_skipped_rather_than_crashing(engine: Engine) -> None:
    odd = Result(
        "found", {"amount": "1 yuan", "merchant": "M", "date": "d", "failure_reason": "??"}
    )

    _, actions = answer(engine, verified(engine, "2"), odd)

    assert prompt_ids(actions) == ["payment_failed_summary", "payment_followup"]


def test_closure_takes_two_confirmations_then_reads_the_reference(engine: Engine) -> None:
    steps = answer(engine, verified(engine, "3"), Result("allowed"), "1")
    assert run_action(steps[1]).name == "record_closure_confirmation"
    steps = answer(engine, steps, Result("recorded"))
    assert gather(steps[1]).node == "closure_confirm_final"
    steps = answer(engine, steps, "1")
    assert run_action(steps[1]).name == "close_account"

    state, actions = answer(engine, steps, Result("closed", {"reference": "70000001"}))

    assert texts(actions)[0].count("70000001") == 2
    assert state.outcome == "solved"


# -- branch ---------------------------------------------------------------------------------------


def test_branch_on_call_data_with_a_default(tiny: TinyFlow) -> None:
    flow = tiny(
        """\
        choose:
          type: gather
          prompt: ask
          min_digits: 1
          max_digits: 1
          save_as: pick
          next: route
          on_failure: other
        route:
          type: branch
          var: pick
          cases: {"1": one, "2": two}
          default: other
        one: {type: hangup, outcome: one}
        two: {type: hangup, outcome: two}
        other: {type: hangup, outcome: other}
        """,
        start="choose",
    )
    engine = Engine(flow)
    start = engine.start(CallStart("c"))

    assert [answer(engine, start, k)[0].outcome for k in "1239"] == ["one", "two", "other", "other"]


def test_branch_default_when_the_name_is_missing(engine: Engine) -> None:
    # after_verify with no reason (a verify reached without a menu choice) goes to main_menu
    state, _ = call(engine, "2", ACCOUNT + "#", PIN)
    data = {k: v for k, v in state.data.items() if k != "reason"}
    state = CallState.from_dict({**state.to_dict(), "data": data})

    state, actions = engine.step(state, VERIFIED)

    assert state.node == "main_menu" and gather(actions).node == "main_menu"


# -- hours ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "route"),
    [
        ("2026-11-23 10:00", "agent"),  # Monday morning
        ("2026-11-23 09:00", "agent"),  # opening minute
        ("2026-11-23 08:59", "after_hours"),
        ("2026-11-23 20:59", "agent"),
        ("2026-11-23 21:00", "after_hours"),  # the end of a range is closed
        ("2026-11-28 09:30", "after_hours"),  # Saturday opens at 10
        ("2026-11-28 10:00", "agent"),
        ("2026-11-29 17:59", "agent"),  # Sunday
        ("2026-11-29 18:00", "after_hours"),
        ("2026-10-01 10:00", "after_hours"),  # National Day, a Thursday
        ("2026-02-17 11:00", "after_hours"),  # Spring Festival, a Tuesday
        ("2027-01-01 12:00", "after_hours"),
        ("2026-10-02 10:00", "agent"),  # the day after a holiday
    ],
)
def test_agent_hours_in_beijing(engine: Engine, local: str, route: str) -> None:
    at = datetime.fromisoformat(local).replace(tzinfo=SHANGHAI)

    state, actions = call(engine, "0", at=at)

    assert state.path[state.path.index("agent_hours") + 1] == route
    callback = "offer" if route == "agent" else "only"
    assert waits_for(actions) == act.Enqueue("general", 1, "general", callback, "en")


def test_hours_use_the_nodes_time_zone_not_utc(engine: Engine) -> None:
    # 02:30 UTC on a Monday is 10:30 in Beijing (open); 14:30 UTC is 22:30 (closed)
    morning = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
    evening = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)

    assert call(engine, "0", at=morning)[0].path[-1] == "agent"
    assert call(engine, "0", at=evening)[0].path[-1] == "agent_callback"


def test_a_holiday_is_the_local_date(engine: Engine) -> None:
    # 2026-09-30 17:00 UTC is already 1 October (National Day) in Beijing
    at = datetime(2026, 9, 30, 17, 0, tzinfo=UTC)

    assert call(engine, "0", at=at)[0].path[-1] == "agent_callback"


HOURS_FLOW = """\
hours:
  type: hours
  timezone: America/New_York
  open: {mon-fri: "09:00-17:00"}
  holidays: ["2026-07-03"]
  on_open: open
  on_closed: closed
open: {type: hangup, outcome: open}
closed: {type: hangup, outcome: closed}
"""


@pytest.mark.parametrize(
    ("utc", "outcome"),
    [
        ("2026-03-06 14:30", "open"),  # Friday, EST: 09:30
        ("2026-03-06 13:30", "closed"),  # EST: 08:30
        ("2026-03-09 13:30", "open"),  # Monday after the clocks went forward, EDT: 09:30
        ("2026-03-09 21:30", "closed"),  # EDT: 17:30
        ("2026-07-03 15:00", "closed"),  # a Friday holiday, on_holiday defaults to on_closed
        ("2026-03-07 15:00", "closed"),  # Saturday
    ],
)
def test_hours_in_a_zone_with_daylight_saving(tiny: TinyFlow, utc: str, outcome: str) -> None:
    engine = Engine(tiny(HOURS_FLOW, start="hours"))
    at = datetime.fromisoformat(utc).replace(tzinfo=UTC)

    state, actions = engine.start(CallStart("c", started_at=at.timestamp()))

    assert state.outcome == outcome and actions == [act.Hangup(outcome)]


# -- max_visits ----------------------------------------------------------------------------------


def test_main_menu_is_entered_three_times_then_a_person_takes_over(engine: Engine) -> None:
    sent = Result("sent", {"phone_last4": "8001"})
    steps = answer(engine, verified(engine, "1"), sent, "1")  # anything_else: main menu
    assert steps[0].visits["main_menu"] == 2
    steps = answer(engine, steps, "1", sent, "1")
    assert steps[0].visits["main_menu"] == 3

    state, actions = answer(engine, steps, "1", sent, "1")  # a fourth time

    assert state.visits["main_menu"] == 3
    assert state.path[-2:] == ("agent_hours", "agent") and state.outcome == QUEUED


def test_hearing_the_payment_again_is_bounded(engine: Engine) -> None:
    found = Result(
        "found", {"amount": "1", "merchant": "m", "date": "d", "failure_reason": "network_error"}
    )
    steps = answer(engine, verified(engine, "2"), found, "1", "1")
    assert steps[0].visits["payment_details"] == 3
    assert gather(steps[1]).node == "payment_followup"

    state, actions = answer(engine, steps, "1")

    assert state.path[-2:] == ("payments_hours", "payments_agent")
    assert waits_for(actions) == act.Enqueue("payments", 5, "payments", "offer", "en")


def test_max_visits_goes_to_its_own_target_on_a_tiny_flow(tiny: TinyFlow) -> None:
    flow = tiny(
        """\
        menu:
          type: menu
          prompt: ask
          choices: {1: again, 0: bye}
          on_failure: bye
        again:
          type: say
          prompt: hello
          next: menu
          max_visits: 2
          on_max_visits: enough
        enough: {type: hangup, outcome: enough}
        bye: {type: hangup}
        """,
        start="menu",
    )
    engine = Engine(flow)

    state, actions = answer(engine, engine.start(CallStart("c")), "1", "1")
    assert state.visits == {"again": 2} and not state.ended
    state, actions = answer(engine, (state, actions), "1")

    assert state.outcome == "enough"
    assert "hello" not in prompt_ids(actions)


LOOP_BACK_FLOW = """\
menu:
  type: menu
  prompt: ask
  choices: {1: again, 0: bye}
  on_failure: bye
again:
  type: say
  prompt: hello
  next: menu
  max_visits: 2
  on_max_visits: menu
bye: {type: hangup}
"""

SELF_FLOW = """\
menu:
  type: menu
  prompt: ask
  choices: {1: again, 0: bye}
  on_failure: bye
again:
  type: say
  prompt: hello
  next: menu
  max_visits: 1
  on_max_visits: again
bye: {type: hangup}
"""


@pytest.mark.parametrize("nodes", [LOOP_BACK_FLOW, SELF_FLOW], ids=["loop-back", "itself"])
def test_on_max_visits_leading_back_into_the_loop_is_refused(tiny: TinyFlow, nodes: str) -> None:
    # Regression: these flows used to load, and then a caller pressing 1 went round forever
    # (loop-back) or the engine raised EngineError mid-call (itself); refused since 8103d34.
    with pytest.raises(FlowErrors, match="loop that nothing bounds"):
        tiny(nodes, start="menu")


# -- hanging up, the end, and wrong events -------------------------------------------------------

HANG_UP_POINTS: list[tuple[Answer, ...]] = [
    (),  # at the language menu
    ("1",),  # at the main menu
    ("1", "7"),  # after a wrong key
    ("1", "1"),  # at the account number
    ("1", "1", ACCOUNT + "#"),  # at the PIN
    ("1", "2", ACCOUNT + "#", PIN),  # while the PIN is being checked
    ("1", "2", ACCOUNT + "#", PIN, VERIFIED),  # while the payment is looked up
    ("1", "3", ACCOUNT + "#", PIN, VERIFIED, Result("allowed")),  # before confirming
]


@pytest.mark.parametrize("before", HANG_UP_POINTS)
def test_hanging_up_at_any_point_abandons_the_call(
    engine: Engine, before: tuple[Answer, ...]
) -> None:
    steps = call(engine, *before, language=None)
    assert not steps[0].ended

    state, actions = engine.step(steps[0], HungUp())

    assert state.outcome == ABANDONED and state.ended
    assert actions == []
    assert state.node == steps[0].node


@pytest.mark.parametrize(
    "event", [Digits("1"), Timeout(), HungUp(), Result("success"), Digits(PIN)]
)
def test_events_after_the_end_change_nothing(engine: Engine, event: Event) -> None:
    ended, _ = call(engine, "0")
    assert ended.outcome == QUEUED

    assert engine.step(ended, event) == (ended, [])


def test_hanging_up_after_hanging_up_changes_nothing(engine: Engine) -> None:
    gone, _ = engine.step(call(engine)[0], HungUp())

    assert engine.step(gone, HungUp()) == (gone, [])
    assert engine.step(gone, Digits("1")) == (gone, [])


@pytest.mark.parametrize(
    ("before", "event"),
    [
        ((), Result("success")),  # a use case result at a menu
        (("1",), Result("found")),  # ... at a gather
        (("2", ACCOUNT + "#", PIN), Digits("1")),  # keys while the PIN is checked
        (("2", ACCOUNT + "#", PIN), Timeout()),
        (("2", ACCOUNT + "#", PIN, VERIFIED), Digits("1")),  # keys during a use case
    ],
)
def test_an_event_the_node_cannot_take_raises(
    engine: Engine, before: tuple[Answer, ...], event: Event
) -> None:
    state, _ = call(engine, *before)

    with pytest.raises(EngineError):
        engine.step(state, event)


def test_a_state_naming_an_unknown_node_raises(engine: Engine) -> None:
    state = CallState.from_dict({**call(engine)[0].to_dict(), "node": "no_such_node"})

    with pytest.raises(EngineError, match="no_such_node"):
        engine.step(state, Digits("1"))


def test_engine_errors_are_ivr_errors() -> None:
    assert issubclass(EngineError, IvrError)


def test_one_engine_runs_interleaved_calls(engine: Engine) -> None:
    first = call(engine, "1", language=None)
    second = call(engine, "2", language=None)

    first = answer(engine, first, "4")
    second = answer(engine, second, Timeout())

    assert first[0].data["reason"] == "security" and first[0].node == "ask_account"
    assert second[0].data["language"] == "zh" and second[0].node == "main_menu"


# -- the state as stored data ----------------------------------------------------------------------

STORE_POINTS: list[tuple[Answer, ...]] = [
    (),
    ("2",),
    ("2", "7"),
    ("1", "2", ACCOUNT + "#"),
    ("1", "2", ACCOUNT + "#", PIN),
    ("1", "2", ACCOUNT + "#", "111111", Result("failure")),
    ("1", "3", ACCOUNT + "#", PIN, VERIFIED, Result("allowed")),
    ("1", "0"),
    ("1", HungUp()),
]


@pytest.mark.parametrize("before", STORE_POINTS)
def test_state_survives_a_json_round_trip(engine: Engine, before: tuple[Answer, ...]) -> None:
    state, _ = call(engine, *before, language=None)

    stored = json.dumps(state.to_dict())
    restored = CallState.from_dict(json.loads(stored))

    assert restored == state
    assert restored.to_dict() == state.to_dict()


def test_a_restored_state_carries_on_like_the_original(engine: Engine) -> None:
    state, _ = call(engine, "2", "1", ACCOUNT + "#")
    restored = CallState.from_dict(json.loads(json.dumps(state.to_dict())))

    assert engine.step(restored, Digits(PIN)) == engine.step(state, Digits(PIN))


VALID_STATE = {"node": "main_menu", "language": "en", "started_at": 0.0}


@pytest.mark.parametrize(
    "raw",
    [
        None,
        [],
        "main_menu",
        42,
        {},
        {"node": "main_menu"},
        {"node": "main_menu", "language": "en"},
        {**VALID_STATE, "started_at": "yesterday"},
        {**VALID_STATE, "started_at": None},
        {**VALID_STATE, "data": ["ani", "+1"]},
        {**VALID_STATE, "data": "ani=+1"},
        {**VALID_STATE, "visits": {"main_menu": "many"}},
        {**VALID_STATE, "attempts": {"check_identity": None}},
        {**VALID_STATE, "tries": "two"},
        {**VALID_STATE, "path": 5},
    ],
)
def test_garbage_is_not_a_state(raw: object) -> None:
    with pytest.raises(IvrError):
        CallState.from_dict(raw)  # type: ignore[arg-type]
