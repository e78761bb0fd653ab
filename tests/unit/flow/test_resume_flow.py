"""Main menu 8: a caller types the reference code a callback gave them and goes back to the
place that callback kept, or hears why the code is refused. The engine on the real flow;
``resume_use_case`` over a fake contact center."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from test_engine import answer, call, gather, prompt_ids, run_action, waits_for

from ivr.flow import actions as act
from ivr.flow.engine import Engine
from ivr.flow.events import Result
from ivr.flow.state import QUEUED
from ivr.services.resume import resume_use_case
from ivr.services.usecases import UseCases

CODE = "482917"


def test_8_asks_for_the_code_in_a_secure_gather(engine: Engine) -> None:
    state, actions = call(engine, "8")

    asked = gather(actions)
    assert asked.node == "resume_code" and asked.secure
    assert (asked.min_digits, asked.max_digits) == (6, 6)
    assert prompt_ids(actions) == ["resume_enter_code"]


def test_the_code_goes_to_resume_callback_masked(engine: Engine) -> None:
    state, actions = call(engine, "8", CODE)

    run = run_action(actions)
    assert run.name == "resume_callback" and run.args["resume_code"] == CODE
    assert "resume_code" in run.secure and CODE not in repr(run.public_args())
    assert CODE not in repr(state)  # the code never enters the call state


@pytest.mark.parametrize("queue", ["general", "payments", "closure", "security"])
def test_a_good_code_queues_the_caller_where_the_callback_waited(
    engine: Engine, queue: str
) -> None:
    data = {"resume_entry": "17", "reason": "payment_failure"}
    data |= {"verified": "yes", "verified_account": "10000002"}
    state, actions = call(engine, "8", CODE, Result(f"resumed_{queue}", data))

    enqueue = waits_for(actions)
    assert isinstance(enqueue, act.Enqueue) and enqueue.queue == queue
    assert "resume_welcome_back" in prompt_ids(actions)
    assert state.outcome == QUEUED
    assert state.data["resume_entry"] == "17" and state.data["verified_account"] == "10000002"


@pytest.mark.parametrize(
    ("outcome", "said"),
    [("used", "resume_used_code"), ("expired", "resume_expired_code")],
)
def test_a_used_or_expired_code_is_refused_with_its_own_prompt(
    engine: Engine, outcome: str, said: str
) -> None:
    state, actions = call(engine, "8", CODE, Result(outcome))

    assert prompt_ids(actions)[0] == said
    assert gather(actions).node == "anything_else"


def test_a_wrong_code_asks_again_and_three_wrong_go_to_a_person(engine: Engine) -> None:
    steps = call(engine, "8", CODE, Result("wrong"))
    assert prompt_ids(steps[1]) == ["resume_wrong_code", "resume_enter_code"]

    state, actions = answer(engine, steps, CODE, Result("wrong"), CODE, Result("wrong"))

    assert state.path.count("resume_code") == 3  # the 4th visit goes to a person instead
    assert state.path[-2:] == ("agent_hours", "agent")  # OPEN: a Monday morning
    assert isinstance(waits_for(actions), act.Enqueue)


def test_too_many_wrong_codes_from_one_number_lock_out(engine: Engine) -> None:
    state, actions = call(engine, "8", CODE, Result("locked"))

    assert prompt_ids(actions)[0] == "resume_locked"
    assert isinstance(waits_for(actions), act.Enqueue)


# -- the use case over a fake contact center -----------------------------------------------


@dataclass(frozen=True)
class FakeEntry:
    id: int
    queue: str
    reason: str | None
    account_number: str | None


@dataclass(frozen=True)
class FakeFound:
    outcome: str
    entry: FakeEntry | None = None
    callback: None = None


@dataclass
class FakeCenter:
    found: FakeFound
    asked: list[tuple[str, str, str]] = field(default_factory=list)

    def resume(self, code: str, caller_id: str, call_id: str) -> FakeFound:
        self.asked.append((code, caller_id, call_id))
        return self.found


ARGS = {"resume_code": CODE, "ani": "+8613800138001", "call_id": "call-9"}


def test_a_good_code_gives_the_queue_and_the_context() -> None:
    center = FakeCenter(FakeFound("ok", FakeEntry(17, "payments", "payment_failure", "10000002")))

    result = resume_use_case(center)(ARGS)  # type: ignore[arg-type]

    assert center.asked == [(CODE, "+8613800138001", "call-9")]
    assert result == Result(
        "resumed_payments",
        {
            "resume_entry": "17",
            "reason": "payment_failure",
            "verified": "yes",
            "verified_account": "10000002",
        },
    )


def test_an_unverified_callback_does_not_verify_the_caller() -> None:
    center = FakeCenter(FakeFound("ok", FakeEntry(3, "general", None, None)))

    result = resume_use_case(center)(ARGS)  # type: ignore[arg-type]

    assert result == Result("resumed_general", {"resume_entry": "3", "reason": ""})


@pytest.mark.parametrize("refusal", ["wrong", "used", "expired", "locked"])
def test_refusals_pass_through(refusal: str) -> None:
    assert resume_use_case(FakeCenter(FakeFound(refusal)))(ARGS) == Result(refusal)  # type: ignore[arg-type]


def test_a_queue_the_flow_cannot_route_is_an_error() -> None:
    center = FakeCenter(FakeFound("ok", FakeEntry(3, "vip", None, None)))

    assert resume_use_case(center)(ARGS) == Result("error")  # type: ignore[arg-type]


def test_use_cases_serve_a_provided_use_case_under_the_error_guard() -> None:
    def broken(args: object) -> Result:
        raise ConnectionError("database went away")

    use_cases = UseCases(
        lambda: None,  # type: ignore[arg-type,return-value]
        None,  # type: ignore[arg-type]
        lambda: b"",
        None,  # type: ignore[arg-type]
    )
    use_cases.provide("resume_callback", broken)
    action = act.RunAction("resume_check", "resume_callback", ARGS, frozenset({"resume_code"}))

    assert "resume_callback" in use_cases.names
    assert use_cases.run(action) == Result("error")
