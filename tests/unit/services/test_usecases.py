"""The use cases behind verify and action nodes, on units of work over a fake store and a
fixed clock: what each one changes, the audit row that commits with it, and what a
failure half-way leaves behind (nothing)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from fakes import (
    SECRET,
    Attempt,
    BackendDown,
    BrokenUnitOfWork,
    Dialer,
    FakeStore,
    FakeUnitOfWork,
    FixedClock,
    PlainPins,
)
from start_date import OPEN_UTC

from ivr.flow.actions import RunAction
from ivr.flow.events import Result
from ivr.flow.model import VERIFY_ACTION
from ivr.services import ports
from ivr.services.usecases import UseCases
from ivr.services.verification import LOCK_DURATION, THROTTLE_WINDOW
from ivr.services.wallet_actions import RESET_CODE_TTL, reset_code_hash

PIN = "246810"  # the PIN of 10000001 (Li Wei, zh, balance 1250.00 CNY)
PINS = {"10000001": PIN, "10000002": "135790", "10000003": "112233", "10000005": "778899"}
CALL_ID = "call-42"
ANI = "+8613800138001"


def run(use_cases: UseCases, name: str, **args: str) -> Result:
    secure = frozenset({"pin"}) & set(args)
    return use_cases.run(RunAction(f"{name}_node", name, args, secure))


def verify(
    use_cases: UseCases, number: str, pin: str, ani: str = ANI, call_id: str = CALL_ID
) -> Result:
    return run(
        use_cases,
        VERIFY_ACTION,
        account_number=number,
        pin=pin,
        ani=ani,
        call_id=call_id,
        language="en",
    )


def as_verified(number: str, language: str = "en", call_id: str = CALL_ID) -> dict[str, str]:
    """The call data an action node hands over after a successful verify."""
    return {
        "verified": "yes",
        "verified_account": number,
        "account_number": number,
        "language": language,
        "call_id": call_id,
        "ani": "+15550000000",
    }


@pytest.fixture
def broken_use_cases(store: FakeStore, clock: FixedClock) -> UseCases:
    return UseCases(lambda: BrokenUnitOfWork(store), clock, lambda: SECRET, PlainPins())


# -- the fakes themselves ------------------------------------------------------------------------


def test_the_fake_unit_of_work_sees_its_own_writes_and_rolls_them_back(store: FakeStore) -> None:
    with store.unit_of_work() as uow:
        uow.accounts.set_status("10000001", ports.FROZEN)
        seen = uow.accounts.get("10000001")
        assert seen is not None and seen.status == ports.FROZEN
        assert store.accounts["10000001"].status == ports.ACTIVE

    assert store.accounts["10000001"].status == ports.ACTIVE
    assert store.commits == 0 and store.discarded == [("accounts.set_status",)]


def test_the_fake_unit_of_work_commits(store: FakeStore) -> None:
    with store.unit_of_work() as uow:
        uow.accounts.set_status("10000001", ports.FROZEN)
        uow.commit()
        assert uow.committed

    assert store.accounts["10000001"].status == ports.FROZEN
    assert store.commits == 1 and store.committed == [("accounts.set_status",)]


def test_a_failing_operation_raises_a_connection_error(store: FakeStore) -> None:
    store.fail("audit.record")

    with store.unit_of_work() as uow, pytest.raises(ConnectionError):
        uow.audit.record(OPEN_UTC, "c", None, "x", {})


# -- verify_identity ------------------------------------------------------------------------


def test_the_right_pin_verifies(use_cases: UseCases, store: FakeStore, clock: FixedClock) -> None:
    result = verify(use_cases, "10000001", PIN)

    expected = {"account_number": "10000001", "holder_name": "Li Wei", "account_status": "active"}
    assert result == Result("success", expected)
    assert store.attempts == [Attempt("10000001", ANI, CALL_ID, clock.now(), True)]


def test_a_wrong_pin_fails_and_is_recorded(
    use_cases: UseCases, store: FakeStore, clock: FixedClock
) -> None:
    result = verify(use_cases, "10000001", "135790", ani="+8613800000000")

    assert result == Result("failure")
    assert store.attempts == [Attempt("10000001", "+8613800000000", CALL_ID, clock.now(), False)]


@pytest.mark.parametrize("number", ["99999999", "", "1000000"])
def test_an_unknown_account_fails(use_cases: UseCases, store: FakeStore, number: str) -> None:
    assert verify(use_cases, number, PIN).outcome == "failure"
    assert [(a.account_number, a.ok) for a in store.attempts] == [(number, False)]


def test_another_accounts_pin_does_not_verify(use_cases: UseCases) -> None:
    assert verify(use_cases, "10000002", PIN).outcome == "failure"  # 10000002's is 135790
    assert verify(use_cases, "10000002", "135790").outcome == "success"


def test_every_check_is_recorded_and_committed_and_none_holds_the_pin(
    use_cases: UseCases, store: FakeStore
) -> None:
    outcomes = [
        verify(use_cases, "10000001", "000000").outcome,
        verify(use_cases, "10000001", PIN).outcome,
        verify(use_cases, "99999999", PIN).outcome,
        verify(use_cases, "10000002", PIN).outcome,
    ]

    assert outcomes == ["failure", "success", "failure", "failure"]
    assert [(a.account_number, a.ok) for a in store.attempts] == [
        ("10000001", False),
        ("10000001", True),
        ("99999999", False),
        ("10000002", False),
    ]
    assert store.committed == [("verifications.record",)] * 4
    for row in store.rows():
        assert PIN not in repr(row)


def test_the_fifth_failure_in_fifteen_minutes_locks_and_opens_an_incident(
    use_cases: UseCases, store: FakeStore, clock: FixedClock
) -> None:
    for _ in range(4):
        assert verify(use_cases, "10000001", "000000").outcome == "failure"
        clock.advance(minutes=3)
    assert store.incidents == []

    assert verify(use_cases, "10000001", "000000").outcome == "locked"  # 12 minutes after the 1st

    assert [(i.account_number, i.kind) for i in store.incidents] == [
        ("10000001", "verification_lockout")
    ]


def test_a_successful_check_starts_the_failure_count_again(
    use_cases: UseCases, store: FakeStore, clock: FixedClock
) -> None:
    for _ in range(4):
        assert verify(use_cases, "10000001", "000000").outcome == "failure"
        clock.advance(minutes=1)
    assert verify(use_cases, "10000001", PIN).outcome == "success"
    clock.advance(minutes=1)
    for _ in range(4):
        assert verify(use_cases, "10000001", "000000").outcome == "failure"
        clock.advance(minutes=1)
    assert store.incidents == []
    assert verify(use_cases, "10000001", "000000").outcome == "locked"  # 5 since the success


def test_a_closed_account_cannot_verify(use_cases: UseCases, store: FakeStore) -> None:
    with store.unit_of_work() as uow:
        uow.accounts.set_status("10000003", ports.CLOSED)
        uow.commit()
    assert verify(use_cases, "10000003", "112233") == Result("closed")  # told, not verified
    assert verify(use_cases, "10000003", "000000") == Result("failure")


def test_an_account_already_closed_is_not_closed_again(
    use_cases: UseCases, store: FakeStore
) -> None:
    assert run(use_cases, "record_closure_confirmation", **as_verified("10000003")).outcome == (
        "recorded"
    )
    assert run(use_cases, "close_account", **as_verified("10000003")).outcome == "closed"
    again = as_verified("10000003", call_id="call-43")
    assert run(use_cases, "record_closure_confirmation", **again).outcome == "recorded"
    assert run(use_cases, "close_account", **again).outcome == "error"


def test_a_lockout_opens_exactly_one_incident_linked_to_the_call_with_its_audit_row(
    use_cases: UseCases, store: FakeStore, clock: FixedClock
) -> None:
    for _ in range(4):
        verify(use_cases, "10000001", "000000", call_id="call-lock")
    locked_at = clock.now()
    assert verify(use_cases, "10000001", "000000", call_id="call-lock").outcome == "locked"

    for pin in ("000000", PIN, "111111"):  # the account is locked: more tries change nothing
        clock.advance(minutes=1)
        assert verify(use_cases, "10000001", pin, call_id="call-lock").outcome == "locked"
        assert verify(use_cases, "10000001", pin, call_id="call-other").outcome == "locked"

    [incident] = store.incidents
    assert (incident.account_number, incident.kind, incident.call_id, incident.at) == (
        "10000001",
        "verification_lockout",
        "call-lock",
        locked_at,
    )
    [row] = [row for row in store.audit if row.action == "verification_locked"]
    assert (row.call_id, row.account_number, row.detail) == (
        "call-lock",
        "10000001",
        {"incident": incident.reference},
    )
    assert store.committed[-1] == (
        "verifications.record",
        "requests.open_incident",
        "audit.record",
    )


def test_a_locked_account_stays_locked_for_thirty_minutes_even_with_the_right_pin(
    use_cases: UseCases, clock: FixedClock
) -> None:
    for _ in range(5):
        verify(use_cases, "10000001", "000000")
    locked_at = clock.now()

    clock.advance(minutes=1)
    assert verify(use_cases, "10000001", PIN).outcome == "locked"
    clock.current = locked_at + LOCK_DURATION - timedelta(seconds=1)
    assert verify(use_cases, "10000001", PIN).outcome == "locked"

    clock.current = locked_at + LOCK_DURATION
    assert verify(use_cases, "10000001", PIN).outcome == "success"


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(
    use_cases: UseCases, clock: FixedClock, store: FakeStore
) -> None:
    for _ in range(5):
        assert verify(use_cases, "10000001", "000000").outcome == "failure"
        clock.advance(minutes=4)  # the 5th failure is 16 minutes after the 1st

    assert verify(use_cases, "10000001", PIN).outcome == "success"
    assert store.incidents == []


def test_a_lockout_is_per_account(use_cases: UseCases) -> None:
    for _ in range(5):
        verify(use_cases, "10000001", "000000")

    assert verify(use_cases, "10000002", "135790").outcome == "success"


def test_four_failures_do_not_lock(use_cases: UseCases) -> None:
    for _ in range(4):
        verify(use_cases, "10000001", "000000")

    assert verify(use_cases, "10000001", PIN).outcome == "success"


def test_a_lockout_incident_names_the_call(hotline: Dialer, store: FakeStore) -> None:
    wrong = "10000001# 000000 "
    hotline.call("2 " + wrong * 3, language="en")  # 3 failures, then an agent
    second = hotline.call("2 " + wrong * 2, language="en")  # the 5th failure locks

    assert second.state is not None and "account_locked" in second.state.path
    [incident] = store.incidents
    assert (incident.kind, incident.call_id) == ("verification_lockout", second.call.call_id)


# -- throttling by caller number ------------------------------------------------------------------

CALLER = "+8613811112222"


def fail_three_accounts(use_cases: UseCases, clock: FixedClock, ani: str = CALLER) -> datetime:
    """Three different accounts fail from ``ani``, a minute apart; returns the first time."""
    first = clock.now()
    for number in ("10000001", "10000002", "10000003"):
        assert verify(use_cases, number, "000000", ani=ani).outcome == "failure"
        clock.advance(minutes=1)
    return first


def test_three_failed_accounts_from_one_number_lock_a_fourth_out(
    use_cases: UseCases, store: FakeStore, clock: FixedClock
) -> None:
    fail_three_accounts(use_cases, clock)
    tried = list(store.attempts)

    result = verify(use_cases, "10000005", PINS["10000005"], ani=CALLER)  # the right PIN

    assert result == Result("locked")
    assert store.attempts == tried  # refused before any PIN was checked
    assert store.incidents == []
    row = store.audit[-1]
    assert (row.action, row.account_number, row.call_id, row.detail, row.at) == (
        "verification_throttled",
        None,
        CALL_ID,
        {"ani": CALLER},
        clock.now(),
    )
    assert store.committed[-1] == ("audit.record",)


def test_the_throttle_lifts_once_the_failures_are_an_hour_old(
    use_cases: UseCases, clock: FixedClock
) -> None:
    first = fail_three_accounts(use_cases, clock)

    clock.current = first + THROTTLE_WINDOW - timedelta(minutes=1)
    assert verify(use_cases, "10000005", PINS["10000005"], ani=CALLER).outcome == "locked"

    clock.current = first + THROTTLE_WINDOW + timedelta(seconds=1)  # the 1st is out of the hour
    assert verify(use_cases, "10000005", PINS["10000005"], ani=CALLER).outcome == "success"


def test_two_failed_accounts_do_not_throttle(use_cases: UseCases, clock: FixedClock) -> None:
    for number in ("10000001", "10000002"):
        verify(use_cases, number, "000000", ani=CALLER)

    assert verify(use_cases, "10000003", PINS["10000003"], ani=CALLER).outcome == "success"


def test_the_throttle_refuses_new_accounts_not_the_ones_already_tried(
    use_cases: UseCases, clock: FixedClock
) -> None:
    fail_three_accounts(use_cases, clock)

    assert verify(use_cases, "10000003", PINS["10000003"], ani=CALLER).outcome == "success"


def test_the_throttle_is_per_caller_number(use_cases: UseCases, clock: FixedClock) -> None:
    fail_three_accounts(use_cases, clock)

    assert verify(use_cases, "10000005", PINS["10000005"], ani="+8613899998888").outcome == (
        "success"
    )


def test_failures_from_different_numbers_do_not_add_up(
    use_cases: UseCases, clock: FixedClock
) -> None:
    for number, ani in (("10000001", "+861"), ("10000002", "+862"), ("10000003", "+863")):
        verify(use_cases, number, "000000", ani=ani)

    for ani in ("+861", "+862", "+863"):
        assert verify(use_cases, "10000005", PINS["10000005"], ani=ani).outcome == "success"


def test_right_pins_do_not_count_toward_the_throttle(use_cases: UseCases) -> None:
    for number in ("10000001", "10000002", "10000003"):
        assert verify(use_cases, number, PINS[number], ani=CALLER).outcome == "success"

    assert verify(use_cases, "10000005", PINS["10000005"], ani=CALLER).outcome == "success"


# -- lookup_failed_payment ------------------------------------------------------------------


def test_a_failed_payment_is_told_in_english(use_cases: UseCases) -> None:
    result = run(use_cases, "lookup_failed_payment", **as_verified("10000001", "en"))

    assert result == Result(
        "found",
        {
            "amount": "89.90 yuan",
            "merchant": "Fresh Mart",
            "date": "November 20",
            "failure_reason": "insufficient_funds",
        },
    )


def test_a_failed_payment_is_told_in_chinese(use_cases: UseCases) -> None:
    result = run(use_cases, "lookup_failed_payment", **as_verified("10000002", "zh"))

    assert result == Result(
        "found",
        {
            "amount": "450.00美元",
            "merchant": "Skyline Electronics",
            "date": "11月21日",
            "failure_reason": "risk_control_hold",
        },
    )


def test_no_failed_payment(use_cases: UseCases) -> None:
    assert run(use_cases, "lookup_failed_payment", **as_verified("10000003")) == Result("none")


@pytest.mark.parametrize("name", ["lookup_failed_payment", "check_closure", "recent_transactions"])
def test_looking_changes_nothing(use_cases: UseCases, store: FakeStore, name: str) -> None:
    before = store.snapshot()

    assert run(use_cases, name, **as_verified("10000001")).outcome != "error"

    assert replace(store.snapshot(), audit=[]) == replace(before, audit=[])
    assert all(write == "audit.record" for writes in store.committed for write in writes)


# -- send_reset_code -------------------------------------------------------------------------


def test_the_reset_code_goes_by_sms_to_the_accounts_phone(
    use_cases: UseCases, store: FakeStore, clock: FixedClock
) -> None:
    args = as_verified("10000002")
    args.update(ani="+8613900000000", phone="+8613911112222", phone_number="+8613911112222")

    result = run(use_cases, "send_reset_code", **args)

    assert result == Result("sent", {"phone_last4": "0102"})
    [sms] = store.outbox
    assert (sms.to, sms.at) == ("+14155550102", clock.now())
    code = re.search(r"\b(\d{6})\b", sms.body)
    assert code is not None
    [reset] = store.resets
    assert reset.account_number == "10000002"
    keyed = hmac.new(SECRET, f"reset-code:10000002:{code.group(1)}".encode(), hashlib.sha256)
    assert reset.code_hash == keyed.hexdigest()
    assert reset.code_hash != hashlib.sha256(f"10000002:{code.group(1)}".encode()).hexdigest()
    assert reset.code_hash != reset_code_hash(b"another key", "10000002", code.group(1))
    assert (reset.at, reset.expires) == (clock.now(), clock.now() + RESET_CODE_TTL)
    assert all(code.group(1) not in value for value in result.data.values())
    assert all(code.group(1) not in repr(row) for row in store.audit)


def test_the_reset_sms_is_in_the_accounts_language(use_cases: UseCases, store: FakeStore) -> None:
    run(use_cases, "send_reset_code", **as_verified("10000001", language="en"))

    [sms] = store.outbox
    assert sms.to == "+8613800138001"
    assert "验证码" in sms.body


def test_no_phone_no_sms(use_cases: UseCases, store: FakeStore) -> None:
    store.accounts["10000003"] = replace(store.accounts["10000003"], phone="")

    assert run(use_cases, "send_reset_code", **as_verified("10000003")) == Result("no_phone")
    assert store.outbox == [] and store.resets == [] and store.audit == []


# -- closure ---------------------------------------------------------------------------------


def test_closure_is_refused_while_money_is_left(use_cases: UseCases, store: FakeStore) -> None:
    en = run(use_cases, "check_closure", **as_verified("10000001", "en"))
    zh = run(use_cases, "check_closure", **as_verified("10000001", "zh"))

    assert en == Result("balance_not_zero", {"balance": "1250.00 yuan"})
    assert zh == Result("balance_not_zero", {"balance": "1250.00元"})
    run(use_cases, "record_closure_confirmation", **as_verified("10000001"))
    assert run(use_cases, "close_account", **as_verified("10000001")).outcome == "balance_not_zero"
    assert store.accounts["10000001"].status == ports.ACTIVE
    assert store.closures[("10000001", CALL_ID)].reference is None
    assert "account_closed" not in store.actions()


def test_closure_with_a_zero_balance_is_allowed(use_cases: UseCases) -> None:
    assert run(use_cases, "check_closure", **as_verified("10000003")) == Result("allowed")


def test_a_closed_account_is_already_closed(use_cases: UseCases, store: FakeStore) -> None:
    store.accounts["10000003"] = replace(store.accounts["10000003"], status=ports.CLOSED)

    assert run(use_cases, "check_closure", **as_verified("10000003")).outcome == "already_closed"


def test_closing_without_the_first_confirmation_is_refused_and_writes_nothing(
    use_cases: UseCases, store: FakeStore
) -> None:
    before = store.snapshot()

    result = run(use_cases, "close_account", **as_verified("10000003"))

    assert result == Result("error")
    assert store.snapshot() == before
    assert store.accounts["10000003"].status == ports.ACTIVE
    assert store.closures == {} and store.audit == []


def test_a_refused_closing_does_not_count_as_the_first_confirmation(
    use_cases: UseCases, store: FakeStore
) -> None:
    assert run(use_cases, "close_account", **as_verified("10000003")) == Result("error")

    assert run(use_cases, "close_account", **as_verified("10000003")) == Result("error")
    assert store.accounts["10000003"].status == ports.ACTIVE
    assert store.closures == {}


def test_a_confirmation_in_another_call_does_not_count(
    use_cases: UseCases, store: FakeStore
) -> None:
    run(use_cases, "record_closure_confirmation", **as_verified("10000003", call_id="call-1"))

    result = run(use_cases, "close_account", **as_verified("10000003", call_id="call-2"))

    assert result.outcome == "error"
    assert store.accounts["10000003"].status == ports.ACTIVE
    assert all(closure.reference is None for closure in store.closures.values())
    assert "account_closed" not in store.actions()


def test_two_confirmations_close_the_account_with_a_reference(
    use_cases: UseCases, store: FakeStore, clock: FixedClock
) -> None:
    recorded = run(use_cases, "record_closure_confirmation", **as_verified("10000003"))
    assert recorded == Result("recorded")

    result = run(use_cases, "close_account", **as_verified("10000003"))

    assert result.outcome == "closed"
    reference = result.data["reference"]
    closure = store.closures[("10000003", CALL_ID)]
    assert reference and (closure.reference, closure.closed_at) == (reference, clock.now())
    assert closure.confirmations == 2
    assert store.accounts["10000003"].status == ports.CLOSED


# -- freeze ------------------------------------------------------------------------------------


def test_freezing_sets_the_status_and_opens_an_incident(
    use_cases: UseCases, store: FakeStore
) -> None:
    result = run(use_cases, "freeze_account", **as_verified("10000002"))

    assert result.outcome == "frozen"
    assert store.accounts["10000002"].status == ports.FROZEN
    [incident] = store.incidents
    assert result.data == {"incident": incident.reference}
    assert (incident.account_number, incident.kind, incident.call_id) == (
        "10000002",
        "fraud_report",
        CALL_ID,
    )


def test_an_already_frozen_account_still_gets_an_incident(
    use_cases: UseCases, store: FakeStore
) -> None:
    result = run(use_cases, "freeze_account", **as_verified("10000004"))

    assert result.outcome == "already_frozen"
    assert result.data["incident"] == store.incidents[0].reference
    assert store.accounts["10000004"].status == ports.FROZEN
    assert store.committed == [("requests.open_incident", "audit.record")]
    assert store.audit[0].detail == {"incident": result.data["incident"], "was_frozen": True}


# -- one unit of work: the change and its audit row, together or not at all -----------------------

#: use case -> (account, the writes of its one commit, its audit action)
AUDITED: dict[str, tuple[str, tuple[str, ...], str]] = {
    "send_reset_code": (
        "10000002",
        ("requests.reset_code", "requests.send_sms", "audit.record"),
        "reset_code_sent",
    ),
    "record_closure_confirmation": (
        "10000003",
        ("requests.confirm_closure", "audit.record"),
        "closure_confirmed",
    ),
    "close_account": (
        "10000003",
        ("requests.confirm_closure", "requests.close", "accounts.set_status", "audit.record"),
        "account_closed",
    ),
    "freeze_account": (
        "10000002",
        ("accounts.set_status", "requests.open_incident", "audit.record"),
        "account_frozen",
    ),
}


def prepare(use_cases: UseCases, name: str) -> None:
    """What must have happened in the call before ``name`` can run."""
    if name == "close_account":
        assert run(use_cases, "record_closure_confirmation", **as_verified("10000003")) == (
            Result("recorded")
        )


@pytest.mark.parametrize("name", AUDITED)
def test_each_wallet_change_commits_once_with_exactly_one_audit_row(
    use_cases: UseCases, store: FakeStore, clock: FixedClock, name: str
) -> None:
    number, writes, action = AUDITED[name]
    prepare(use_cases, name)
    commits, audited = store.commits, len(store.audit)
    clock.advance(minutes=1)

    result = run(use_cases, name, **as_verified(number))

    assert result.outcome != "error"
    assert store.commits == commits + 1
    assert store.committed[-1] == writes
    [row] = store.audit[audited:]
    assert (row.at, row.call_id, row.account_number, row.action) == (
        clock.now(),
        CALL_ID,
        number,
        action,
    )
    assert store.discarded == []


def test_the_audit_rows_say_what_was_done(use_cases: UseCases, store: FakeStore) -> None:
    sent = run(use_cases, "send_reset_code", **as_verified("10000002"))
    run(use_cases, "record_closure_confirmation", **as_verified("10000003"))
    closed = run(use_cases, "close_account", **as_verified("10000003"))
    frozen = run(use_cases, "freeze_account", **as_verified("10000005"))

    assert [(row.action, row.detail) for row in store.audit] == [
        ("reset_code_sent", {"to_last4": sent.data["phone_last4"]}),
        ("closure_confirmed", {"count": 1}),
        ("account_closed", {"reference": closed.data["reference"]}),
        ("account_frozen", {"incident": frozen.data["incident"], "was_frozen": False}),
    ]


@pytest.mark.parametrize("breaks_at", ["audit.record", "commit"])
@pytest.mark.parametrize("name", AUDITED)
def test_a_failure_half_way_leaves_neither_the_change_nor_its_audit_row(
    use_cases: UseCases,
    store: FakeStore,
    caplog: pytest.LogCaptureFixture,
    name: str,
    breaks_at: str,
) -> None:
    number, writes, _ = AUDITED[name]
    prepare(use_cases, name)
    before = store.snapshot()
    store.fail(breaks_at)

    with caplog.at_level(logging.ERROR):
        result = run(use_cases, name, **as_verified(number))

    assert result == Result("error")
    assert store.snapshot() == before  # no change, no audit row, no SMS, no incident
    # the change was made in the unit of work, then thrown away with it
    staged = writes[:-1] if breaks_at == "audit.record" else writes
    assert store.discarded == [staged]
    assert name in caplog.text and "BackendDown" in caplog.text


def test_a_lockout_that_cannot_be_audited_opens_no_incident(
    use_cases: UseCases, store: FakeStore
) -> None:
    for _ in range(4):
        verify(use_cases, "10000001", "000000")
    before = store.snapshot()
    store.fail("audit.record")

    assert verify(use_cases, "10000001", "000000") == Result("error")

    assert store.snapshot() == before
    assert store.discarded == [("verifications.record", "requests.open_incident")]


# -- record_call -------------------------------------------------------------------------------


def a_record(call_id: str = CALL_ID) -> ports.CallRecord:
    at = OPEN_UTC
    return ports.CallRecord(
        call_id=call_id,
        channel="console",
        caller_id=ANI,
        language="en",
        reason="security",
        account_number="10000002",
        path=("choose_language", "welcome", "main_menu"),
        last_node="security_queue",
        outcome="queued",
        queue="security",
        started_at=at,
        ended_at=at + timedelta(minutes=2),
    )


def test_record_call_keeps_the_record(use_cases: UseCases, store: FakeStore) -> None:
    record = a_record()

    assert use_cases.record_call(record) is True

    assert store.calls == [record]
    assert store.committed == [("calls.save",)]


def unreachable() -> FakeUnitOfWork:
    raise BackendDown("could not connect to the database")


@pytest.mark.parametrize("down", ["calls.save", "commit", "broken", "unreachable"])
def test_record_call_returns_false_and_logs_when_the_store_is_down(
    store: FakeStore, clock: FixedClock, caplog: pytest.LogCaptureFixture, down: str
) -> None:
    factories: dict[str, Callable[[], FakeUnitOfWork]] = {
        "broken": lambda: BrokenUnitOfWork(store),
        "unreachable": unreachable,
    }
    if down in factories:
        use_cases = UseCases(factories[down], clock, lambda: SECRET, PlainPins())
    else:
        store.fail(down)
        use_cases = UseCases(store.unit_of_work, clock, lambda: SECRET, PlainPins())

    with caplog.at_level(logging.ERROR):
        assert use_cases.record_call(a_record("call-down")) is False

    assert store.calls == []
    assert "could not record call call-down" in caplog.text


# -- guards and failures -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "lookup_failed_payment",
        "recent_transactions",
        "send_reset_code",
        "check_closure",
        "record_closure_confirmation",
        "close_account",
        "freeze_account",
    ],
)
def test_wallet_use_cases_refuse_a_caller_who_is_not_verified(
    use_cases: UseCases, store: FakeStore, name: str
) -> None:
    before = store.snapshot()
    args = {**as_verified("10000003"), "verified": "no"}

    assert run(use_cases, name, **args) == Result("error")
    assert store.snapshot() == before
    assert store.commits == 0


def test_a_verified_account_that_vanished_is_an_error(use_cases: UseCases) -> None:
    assert run(use_cases, "freeze_account", **as_verified("99999999")) == Result("error")


def test_an_unknown_use_case_is_an_error_and_logged(
    use_cases: UseCases, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        assert run(use_cases, "transfer_all_money", **as_verified("10000001")) == Result("error")

    assert "transfer_all_money" in caplog.text


def test_a_failing_store_gives_error_and_the_log_holds_no_pin(
    broken_use_cases: UseCases, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        result = verify(broken_use_cases, "10000001", PIN)

    assert result == Result("error")
    assert "verify_identity" in caplog.text and "BackendDown" in caplog.text
    assert PIN not in caplog.text
    assert all(PIN not in str(record.args) for record in caplog.records)


@pytest.mark.parametrize("breaks_at", ["accounts.pin_hash", "verifications.record"])
def test_a_check_that_breaks_half_way_gives_error_and_records_nothing(
    use_cases: UseCases, store: FakeStore, caplog: pytest.LogCaptureFixture, breaks_at: str
) -> None:
    store.fail(breaks_at)

    with caplog.at_level(logging.DEBUG):
        assert verify(use_cases, "10000001", PIN) == Result("error")

    assert store.attempts == [] and store.commits == 0
    assert PIN not in caplog.text


@pytest.mark.parametrize(
    "name",
    [
        "lookup_failed_payment",
        "recent_transactions",
        "send_reset_code",
        "check_closure",
        "record_closure_confirmation",
        "close_account",
        "freeze_account",
    ],
)
def test_a_failing_store_gives_error_for_every_use_case(
    broken_use_cases: UseCases, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    with caplog.at_level(logging.ERROR):
        result = run(broken_use_cases, name, **as_verified("10000001"), pin=PIN)

    assert result == Result("error")
    assert name in caplog.text and PIN not in caplog.text
