"""The use cases behind verify and action nodes, over the fake wallet and a fixed clock."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta

import pytest
from fakes import BrokenWallet, Dialer, FakeWallet, FixedClock

from ivr.flow.actions import RunAction
from ivr.flow.events import Result
from ivr.flow.model import VERIFY_ACTION
from ivr.services import ports
from ivr.services.usecases import (
    LOCK_DURATION,
    RESET_CODE_TTL,
    Ports,
    UseCases,
)

PIN = "246810"  # the PIN of 10000001 (Li Wei, zh, balance 1250.00 CNY)
CALL_ID = "call-42"


def run(use_cases: UseCases, name: str, **args: str) -> Result:
    secure = frozenset({"pin"}) & set(args)
    return use_cases.run(RunAction(f"{name}_node", name, args, secure))


def verify(use_cases: UseCases, number: str, pin: str, ani: str = "+8613800138001") -> Result:
    return run(use_cases, VERIFY_ACTION, account_number=number, pin=pin, ani=ani, language="en")


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
def broken_use_cases(clock: FixedClock) -> UseCases:
    wallet = BrokenWallet.with_demo_accounts()
    return UseCases(Ports(wallet, wallet, wallet, clock))


# -- verify_identity ------------------------------------------------------------------------


def test_the_right_pin_verifies(use_cases: UseCases, wallet: FakeWallet) -> None:
    result = verify(use_cases, "10000001", PIN)

    assert result == Result("success", {"account_number": "10000001", "holder_name": "Li Wei"})
    assert wallet.failures == []


def test_a_wrong_pin_fails_and_is_recorded(
    use_cases: UseCases, wallet: FakeWallet, clock: FixedClock
) -> None:
    result = verify(use_cases, "10000001", "135790", ani="+8613800000000")

    assert result == Result("failure")
    assert wallet.failures == [("10000001", "+8613800000000", clock.now())]


@pytest.mark.parametrize("number", ["99999999", "", "1000000"])
def test_an_unknown_account_fails(use_cases: UseCases, number: str) -> None:
    assert verify(use_cases, number, PIN).outcome == "failure"


def test_another_accounts_pin_does_not_verify(use_cases: UseCases) -> None:
    assert verify(use_cases, "10000002", PIN).outcome == "failure"  # 10000002's is 135790
    assert verify(use_cases, "10000002", "135790").outcome == "success"


def test_the_fifth_failure_in_fifteen_minutes_locks_and_opens_an_incident(
    use_cases: UseCases, wallet: FakeWallet, clock: FixedClock
) -> None:
    for _ in range(4):
        assert verify(use_cases, "10000001", "000000").outcome == "failure"
        clock.advance(minutes=3)
    assert wallet.incidents == []

    assert verify(use_cases, "10000001", "000000").outcome == "locked"  # 12 minutes after the 1st

    assert [(number, kind) for _, number, kind, _ in wallet.incidents] == [
        ("10000001", "verification_lockout")
    ]


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
    use_cases: UseCases, clock: FixedClock, wallet: FakeWallet
) -> None:
    for _ in range(5):
        assert verify(use_cases, "10000001", "000000").outcome == "failure"
        clock.advance(minutes=4)  # the 5th failure is 16 minutes after the 1st

    assert verify(use_cases, "10000001", PIN).outcome == "success"
    assert wallet.incidents == []


def test_a_lockout_is_per_account(use_cases: UseCases) -> None:
    for _ in range(5):
        verify(use_cases, "10000001", "000000")

    assert verify(use_cases, "10000002", "135790").outcome == "success"


def test_four_failures_do_not_lock(use_cases: UseCases) -> None:
    for _ in range(4):
        verify(use_cases, "10000001", "000000")

    assert verify(use_cases, "10000001", PIN).outcome == "success"


def test_a_lockout_incident_names_the_call(hotline: Dialer, wallet: FakeWallet) -> None:
    wrong = "10000001# 000000 "
    hotline.call("2 " + wrong * 3, language="en")  # 3 failures, then an agent
    second = hotline.call("2 " + wrong * 2, language="en")  # the 5th failure locks

    assert second.state is not None and "account_locked" in second.state.path
    assert wallet.incidents[-1][2:] == ("verification_lockout", second.call.call_id)


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


# -- send_reset_code -------------------------------------------------------------------------


def test_the_reset_code_goes_by_sms_to_the_accounts_phone(
    use_cases: UseCases, wallet: FakeWallet, clock: FixedClock
) -> None:
    args = as_verified("10000002")
    args.update(ani="+8613900000000", phone="+8613911112222", phone_number="+8613911112222")

    result = run(use_cases, "send_reset_code", **args)

    assert result == Result("sent", {"phone_last4": "0102"})
    [(to, text)] = wallet.outbox
    assert to == "+14155550102"
    code = re.search(r"\b(\d{6})\b", text)
    assert code is not None
    digest, expires = wallet.reset_codes["10000002"]
    assert digest == hashlib.sha256(f"10000002:{code.group(1)}".encode()).hexdigest()
    assert expires == clock.now() + RESET_CODE_TTL
    assert all(code.group(1) not in value for value in result.data.values())


def test_the_reset_sms_is_in_the_accounts_language(
    use_cases: UseCases, wallet: FakeWallet
) -> None:
    run(use_cases, "send_reset_code", **as_verified("10000001", language="en"))

    [(to, text)] = wallet.outbox
    assert to == "+8613800138001"
    assert "验证码" in text


def test_no_phone_no_sms(use_cases: UseCases, wallet: FakeWallet) -> None:
    account = wallet.accounts["10000003"]
    wallet.accounts["10000003"] = ports.Account(
        account.number, account.holder_name, "", account.language, account.status,
        account.balance_minor, account.currency,
    )

    assert run(use_cases, "send_reset_code", **as_verified("10000003")) == Result("no_phone")
    assert wallet.outbox == [] and wallet.reset_codes == {}


# -- closure ---------------------------------------------------------------------------------


def test_closure_is_refused_while_money_is_left(use_cases: UseCases, wallet: FakeWallet) -> None:
    en = run(use_cases, "check_closure", **as_verified("10000001", "en"))
    zh = run(use_cases, "check_closure", **as_verified("10000001", "zh"))

    assert en == Result("balance_not_zero", {"balance": "1250.00 yuan"})
    assert zh == Result("balance_not_zero", {"balance": "1250.00元"})
    run(use_cases, "record_closure_confirmation", **as_verified("10000001"))
    assert run(use_cases, "close_account", **as_verified("10000001")).outcome == "balance_not_zero"
    assert wallet.accounts["10000001"].status == ports.ACTIVE


def test_closure_with_a_zero_balance_is_allowed(use_cases: UseCases) -> None:
    assert run(use_cases, "check_closure", **as_verified("10000003")) == Result("allowed")


def test_a_closed_account_is_already_closed(use_cases: UseCases, wallet: FakeWallet) -> None:
    wallet.set_status("10000003", ports.CLOSED)

    assert run(use_cases, "check_closure", **as_verified("10000003")).outcome == "already_closed"


def test_closing_without_the_first_confirmation_is_refused(
    use_cases: UseCases, wallet: FakeWallet
) -> None:
    result = run(use_cases, "close_account", **as_verified("10000003"))

    assert result == Result("error")
    assert wallet.accounts["10000003"].status == ports.ACTIVE
    assert wallet.closures == {}


def test_a_confirmation_in_another_call_does_not_count(
    use_cases: UseCases, wallet: FakeWallet
) -> None:
    run(use_cases, "record_closure_confirmation", **as_verified("10000003", call_id="call-1"))

    result = run(use_cases, "close_account", **as_verified("10000003", call_id="call-2"))

    assert result.outcome == "error"
    assert wallet.accounts["10000003"].status == ports.ACTIVE


def test_two_confirmations_close_the_account_with_a_reference(
    use_cases: UseCases, wallet: FakeWallet
) -> None:
    recorded = run(use_cases, "record_closure_confirmation", **as_verified("10000003"))
    assert recorded == Result("recorded")

    result = run(use_cases, "close_account", **as_verified("10000003"))

    assert result.outcome == "closed"
    reference = result.data["reference"]
    assert reference and wallet.closures["10000003"] == (reference, CALL_ID)
    assert wallet.accounts["10000003"].status == ports.CLOSED
    assert wallet.confirmations[("10000003", CALL_ID)] == 2


# -- freeze ------------------------------------------------------------------------------------


def test_freezing_sets_the_status_and_opens_an_incident(
    use_cases: UseCases, wallet: FakeWallet
) -> None:
    result = run(use_cases, "freeze_account", **as_verified("10000002"))

    assert result.outcome == "frozen"
    assert wallet.accounts["10000002"].status == ports.FROZEN
    [(reference, number, kind, call_id)] = wallet.incidents
    assert result.data == {"incident": reference}
    assert (number, kind, call_id) == ("10000002", "fraud_report", CALL_ID)


def test_an_already_frozen_account_still_gets_an_incident(
    use_cases: UseCases, wallet: FakeWallet
) -> None:
    result = run(use_cases, "freeze_account", **as_verified("10000004"))

    assert result.outcome == "already_frozen"
    assert result.data["incident"] == wallet.incidents[0][0]
    assert wallet.accounts["10000004"].status == ports.FROZEN


# -- guards and failures -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "lookup_failed_payment",
        "send_reset_code",
        "check_closure",
        "record_closure_confirmation",
        "close_account",
        "freeze_account",
    ],
)
def test_wallet_use_cases_refuse_a_caller_who_is_not_verified(
    use_cases: UseCases, wallet: FakeWallet, name: str
) -> None:
    args = {**as_verified("10000003"), "verified": "no"}

    assert run(use_cases, name, **args) == Result("error")
    assert wallet.accounts["10000003"].status == ports.ACTIVE
    assert wallet.outbox == [] and wallet.incidents == [] and not wallet.confirmations


def test_a_verified_account_that_vanished_is_an_error(use_cases: UseCases) -> None:
    assert run(use_cases, "freeze_account", **as_verified("99999999")) == Result("error")


def test_an_unknown_use_case_is_an_error_and_logged(
    use_cases: UseCases, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        assert run(use_cases, "transfer_all_money", **as_verified("10000001")) == Result("error")

    assert "transfer_all_money" in caplog.text


def test_a_failing_port_gives_error_and_the_log_holds_no_pin(
    broken_use_cases: UseCases, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        result = verify(broken_use_cases, "10000001", PIN)

    assert result == Result("error")
    assert "verify_identity" in caplog.text and "BackendDown" in caplog.text
    assert PIN not in caplog.text
    assert all(PIN not in str(record.args) for record in caplog.records)


@pytest.mark.parametrize(
    "name", ["lookup_failed_payment", "send_reset_code", "freeze_account"]
)
def test_a_failing_backend_gives_error_for_every_use_case(
    broken_use_cases: UseCases, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    with caplog.at_level(logging.ERROR):
        result = run(broken_use_cases, name, **as_verified("10000001"), pin=PIN)

    assert result == Result("error")
    assert name in caplog.text and PIN not in caplog.text
