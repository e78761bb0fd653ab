"""Account status is heard: the owner of a closed account is told it is closed (only with
the right PIN: a wrong one is a plain failure, counted like any other), and a frozen
account is sent to the security team from every branch but the fraud report itself.
On a fake store, through the real flow."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import Attempt, Dialer, FakeStore, FixedClock, PlainPins

from ivr.flow.actions import RunAction
from ivr.flow.events import Result
from ivr.flow.model import VERIFY_ACTION
from ivr.phone.session import CallSession
from ivr.services import ports
from ivr.services.usecases import UseCases

ANI = "+8613900139003"


def close(store: FakeStore, number: str) -> None:
    with store.unit_of_work() as uow:
        uow.accounts.set_status(number, ports.CLOSED)
        uow.commit()


def verify(use_cases: UseCases, number: str, pin: str) -> Result:
    args = {"account_number": number, "pin": pin, "ani": ANI, "call_id": "c1", "language": "en"}
    return use_cases.run(RunAction("check", VERIFY_ACTION, args, frozenset({"pin"})))


def heard(session: CallSession) -> list[str]:
    return [
        prompt["id"]
        for entry in session.transcript.entries
        for prompt in entry.get("play", []) + entry.get("prompts", [])
    ]


def enqueued(session: CallSession) -> dict[str, Any]:
    [queued] = [e["enqueue"] for e in session.transcript.entries if "enqueue" in e]
    return queued  # type: ignore[no-any-return]


def use_cases_run(session: CallSession) -> list[str]:
    return [u["use_case"] for u in session.transcript.use_cases]


class CountingPins(PlainPins):
    """Counts the comparisons, with what they were given."""

    def __init__(self) -> None:
        super().__init__()
        self.compared: list[str | None] = []

    def matches(self, pin: str, stored: str | None) -> bool:
        self.compared.append(stored)
        return super().matches(pin, stored)


# -- closed accounts ---------------------------------------------------------------------------


def test_closed_with_the_right_pin_is_closed_recorded_and_audited(
    use_cases: UseCases, store: FakeStore, clock: FixedClock
) -> None:
    close(store, "10000003")

    assert verify(use_cases, "10000003", "112233") == Result("closed")

    assert store.attempts == [Attempt("10000003", ANI, "c1", clock.now(), True)]
    assert [(r.account_number, r.action) for r in store.audit] == [
        ("10000003", "verification_closed_account")
    ]


def test_closed_with_a_wrong_pin_is_a_plain_failure_and_counts(
    use_cases: UseCases, store: FakeStore, clock: FixedClock
) -> None:
    close(store, "10000003")

    assert verify(use_cases, "10000003", "000000") == Result("failure")

    assert store.attempts == [Attempt("10000003", ANI, "c1", clock.now(), False)]
    assert store.audit == []


def test_a_closed_account_answers_wrong_pins_as_a_number_nobody_has(
    use_cases: UseCases, store: FakeStore, clock: FixedClock
) -> None:
    """Five wrong PINs lock both alike, and neither opens an incident: a stranger learns
    nothing about which numbers are closed."""
    close(store, "10000003")
    closed = [verify(use_cases, "10000003", "000000").outcome for _ in range(6)]
    clock.advance(hours=2)
    nobody = [verify(use_cases, "19999999", "000000").outcome for _ in range(6)]

    assert closed == nobody == ["failure"] * 5 + ["locked"]
    assert store.incidents == []


def test_the_pin_of_a_closed_account_is_still_compared(store: FakeStore, clock: FixedClock) -> None:
    """The slow comparison runs for closed accounts too, so timing tells nothing."""
    pins = CountingPins()
    use_cases = UseCases(store.unit_of_work, clock, lambda: b"s", pins)
    close(store, "10000003")

    verify(use_cases, "10000003", "000000")
    verify(use_cases, "10000003", "112233")

    assert pins.compared == ["112233", "112233"]  # the stored form, as for an open account


def test_the_owner_of_a_closed_account_hears_it_is_closed(
    hotline: Dialer, store: FakeStore
) -> None:
    close(store, "10000003")

    session = hotline.call("1 2 10000003# 112233")

    assert "account_closed" in heard(session)
    assert "verify_retry" not in heard(session) and "verify_failed" not in heard(session)
    assert enqueued(session)["queue"] == "closure"
    assert session.state is not None and "verified" not in session.state.data
    assert use_cases_run(session) == [VERIFY_ACTION]  # no wallet use case ran


def test_a_wrong_pin_on_a_closed_account_hears_the_pin_does_not_match(
    hotline: Dialer, store: FakeStore
) -> None:
    close(store, "10000003")

    session = hotline.call("1 2 10000003# 000000 10000003# 000000 10000003# 000000")

    assert heard(session).count("verify_retry") == 2
    assert "verify_failed" in heard(session) and "account_closed" not in heard(session)
    assert [a.ok for a in store.attempts] == [False, False, False]


# -- frozen accounts ---------------------------------------------------------------------------


def test_verification_tells_the_flow_the_accounts_status(use_cases: UseCases) -> None:
    assert verify(use_cases, "10000004", "445566").data["account_status"] == "frozen"
    assert verify(use_cases, "10000003", "112233").data["account_status"] == "active"


@pytest.mark.parametrize(
    ("menu_key", "never_run"),
    [
        ("2", "lookup_failed_payment"),  # payment failure
        ("1", "send_reset_code"),  # a reset code could hand the account to a thief
        ("3", "check_closure"),  # the security team first lifts the freeze
        ("6", "recent_transactions"),
    ],
)
def test_a_frozen_account_is_told_so_and_sent_to_security(
    hotline: Dialer, store: FakeStore, menu_key: str, never_run: str
) -> None:
    session = hotline.call(f"1 {menu_key} 10000004# 445566")

    assert heard(session)[-2:] == ["account_is_frozen", "transferring_to_security"]
    assert enqueued(session)["queue"] == "security" and enqueued(session)["priority"] == 10
    assert never_run not in use_cases_run(session)
    assert store.outbox == [] and store.incidents == []


def test_a_fraud_report_on_a_frozen_account_still_opens_an_incident(
    hotline: Dialer, store: FakeStore
) -> None:
    session = hotline.call("1 4 10000004# 445566")

    assert "freeze_account" in use_cases_run(session)
    assert "account_frozen" in heard(session) and "account_is_frozen" not in heard(session)
    assert len(store.incidents) == 1 and enqueued(session)["queue"] == "security"


def test_the_frozen_prompt_is_said_in_chinese(hotline: Dialer) -> None:
    session = hotline.call("2 2 10000004# 445566")

    [text] = [
        prompt["text"]
        for entry in session.transcript.entries
        for prompt in entry.get("play", [])
        if prompt["id"] == "account_is_frozen"
    ]
    assert "冻结" in text and text.endswith("。") and "，" in text


def test_an_active_account_still_reaches_its_branch(hotline: Dialer) -> None:
    session = hotline.call("1 2 10000001# 246810 9")

    assert "lookup_failed_payment" in use_cases_run(session)
    assert "account_is_frozen" not in heard(session)
