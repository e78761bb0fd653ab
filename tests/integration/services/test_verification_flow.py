"""Issue 3's "Done when", walked through the real ``ivr call --json`` (in-process) with the
demo accounts on a real database, on SQLite and on PostgreSQL.

Every call is checked to leave exactly one call record that agrees with its transcript.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from datetime import timedelta

import pytest

from integration.support import (
    CHEN_JIE,
    EMMA,
    LI_WEI,
    OMAR,
    OPEN_UTC,
    UNKNOWN_CALLER,
    ZHANG_MIN,
    Db,
    Summary,
    assert_recorded,
    enqueued,
    ivr_call,
    outcomes,
    said,
    texts,
    use_case,
)
from ivr.app import cli
from ivr.app.config import Settings
from ivr.services import ports

pytestmark = pytest.mark.usefixtures("seeded_env")

WRONG_PIN = "975312"  # typed in these tests; as secret as a right one


def call(
    capsys: pytest.CaptureFixture[str], db: Db, keys: str, *, ani: str = "", lang: str = ""
) -> Summary:
    """``ivr call --keys KEYS --json``, and the one call record it must leave."""
    summary, _ = ivr_call(capsys, keys, ani=ani, lang=lang or None)
    assert_recorded(db, summary)
    return summary


def without_times(text: str) -> str:
    """Times carry six random digits of microseconds, and object addresses random hex
    digits, which could spell a PIN by chance."""
    text = re.sub(r"0x[0-9a-fA-F]+", "0x...", text)
    text = re.sub(r"datetime\.datetime\([^)]*\)", "datetime(...)", text)
    return re.sub(r"(\d\d:\d\d:\d\d)\.\d{6}", r"\1", text)


def attempts(db: Db, number: str) -> list[bool]:
    return [row["succeeded"] for row in db.rows("verification_attempts", account_number=number)]


# -- identity ---------------------------------------------------------------------------------


def test_the_correct_pin_verifies(capsys: pytest.CaptureFixture[str], db: Db) -> None:
    number, pin, phone = LI_WEI
    summary = call(capsys, db, f"1 2 {number}# {pin} 9", ani=phone)

    verify = use_case(summary, "verify_identity")
    assert verify["outcome"] == "success"
    assert verify["data"] == {
        "account_number": number, "holder_name": "Li Wei", "account_status": "active",
    }  # fmt: skip
    assert summary["verified_account"] == number
    assert summary["outcome"] == "solved"
    [attempt] = db.rows("verification_attempts")
    assert [attempt[k] for k in ("account_number", "ani", "call_id", "succeeded")] == [
        number, phone, summary["call_id"], True,
    ]  # fmt: skip


def test_three_wrong_pins_end_in_the_failure_route(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    number, _, phone = LI_WEI
    summary = call(capsys, db, "1 2 " + f"{number}# {WRONG_PIN} " * 3, ani=phone)

    assert outcomes(summary, "verify_identity") == ["failure"] * 3
    assert said(summary).count("verify_retry") == 2
    assert summary["nodes"][-3:] == ["verify_failed", "agent_hours", "agent"]
    assert "verify_failed" in said(summary)
    assert summary["verified_account"] is None
    assert (summary["outcome"], enqueued(summary)["queue"]) == ("queued", "general")
    assert attempts(db, number) == [False] * 3
    assert db.count("security_incidents") == 0  # three is not a lockout
    assert db.one("accounts", number=number)["status"] == ports.ACTIVE


def test_five_failures_across_two_calls_lock_the_account_and_open_one_incident(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    number, pin, phone = LI_WEI
    wrong = f"{number}# {WRONG_PIN} "

    first = call(capsys, db, "1 2 " + wrong * 3, ani=phone)
    assert outcomes(first, "verify_identity") == ["failure"] * 3
    assert db.count("security_incidents") == 0

    second = call(capsys, db, "1 2 " + wrong * 2, ani=phone)  # failures 4 and 5
    assert outcomes(second, "verify_identity") == ["failure", "locked"]
    assert "account_locked" in said(second)
    assert enqueued(second) == {
        "queue": "security", "priority": 10, "skill": "security", "callback": "offer",
        "language": "en",
    }  # fmt: skip
    incident = db.one("security_incidents")
    assert (incident["account_number"], incident["kind"], incident["call_id"]) == (
        number, "verification_lockout", second["call_id"],
    )  # fmt: skip
    assert incident["status"] == "open"
    locked = db.one("audit_log", action="verification_locked")
    assert (locked["call_id"], locked["account_number"]) == (second["call_id"], number)
    assert locked["detail"] == {"incident": incident["reference"]}

    third = call(capsys, db, f"1 2 {number}# {pin}", ani=phone)  # the right PIN, too late
    assert outcomes(third, "verify_identity") == ["locked"]
    assert third["verified_account"] is None
    assert "lookup_failed_payment" not in [u["use_case"] for u in third["use_cases"]]
    assert (third["outcome"], enqueued(third)["queue"]) == ("queued", "security")
    assert db.count("security_incidents") == 1  # still exactly one
    assert True not in attempts(db, number)


def test_one_caller_number_failing_on_three_accounts_is_refused_on_a_fourth(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    keys = " ".join(f"{n}# {WRONG_PIN}" for n in (LI_WEI[0], ZHANG_MIN[0], OMAR[0]))
    first = call(capsys, db, f"1 2 {keys}", ani=UNKNOWN_CALLER)
    assert outcomes(first, "verify_identity") == ["failure"] * 3

    number, pin, phone = EMMA
    refused = call(capsys, db, f"1 2 {number}# {pin}", ani=UNKNOWN_CALLER)
    assert outcomes(refused, "verify_identity") == ["locked"]
    assert refused["verified_account"] is None
    assert enqueued(refused)["queue"] == "security"
    throttled = db.one("audit_log", action="verification_throttled")
    assert throttled["call_id"] == refused["call_id"]
    assert throttled["detail"] == {"ani": UNKNOWN_CALLER}

    own_phone = call(capsys, db, f"1 2 {number}# {pin} 9", ani=phone)  # per number only
    assert outcomes(own_phone, "verify_identity") == ["success"]


# -- the wallet use cases ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "lang_key", "reason", "summary_line", "reason_words"),
    [
        (
            LI_WEI, "1", "insufficient_funds",
            "Your most recent failed payment was 89.90 yuan to Fresh Mart on November 20.",
            "your wallet balance was too low",
        ),
        (
            EMMA, "1", "risk_control_hold",
            "Your most recent failed payment was 450.00 dollars to Skyline Electronics on "
            "November 21.",
            "Our security checks paused it",
        ),
        (
            LI_WEI, "2", "insufficient_funds",
            "您最近一笔失败的支付，是11月20日向Fresh Mart付款89.90元。",
            "余额不足",
        ),
    ],
    ids=["insufficient_funds", "risk_control_hold", "insufficient_funds-zh"],
)  # fmt: skip
def test_the_payment_failure_branch_speaks_the_seeded_reason(
    capsys: pytest.CaptureFixture[str],
    db: Db,
    who: tuple[str, str, str],
    lang_key: str,
    reason: str,
    summary_line: str,
    reason_words: str,
) -> None:
    number, pin, phone = who
    summary = call(capsys, db, f"{lang_key} 2 {number}# {pin} 9", ani=phone)

    lookup = use_case(summary, "lookup_failed_payment")
    assert lookup["outcome"] == "found" and lookup["data"]["failure_reason"] == reason
    assert f"payment_reason_{reason}" in said(summary)
    spoken = texts(summary)
    assert summary_line in spoken and reason_words in spoken
    assert (summary["outcome"], summary["reason"]) == ("solved", "payment_failure")


def test_no_failed_payment_says_so(capsys: pytest.CaptureFixture[str], db: Db) -> None:
    number, pin, phone = ZHANG_MIN
    summary = call(capsys, db, f"1 2 {number}# {pin} 9", ani=phone)

    assert use_case(summary, "lookup_failed_payment")["outcome"] == "none"
    assert "no_failed_payment" in said(summary)


def test_closure_is_refused_while_there_is_a_balance(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    number, pin, phone = LI_WEI
    summary = call(capsys, db, f"1 3 {number}# {pin} 9", ani=phone)

    check = use_case(summary, "check_closure")
    assert (check["outcome"], check["data"]) == ("balance_not_zero", {"balance": "1250.00 yuan"})
    assert "Your wallet still holds 1250.00 yuan." in texts(summary)
    assert summary["outcome"] == "unsolved"
    assert "close_account" not in [u["use_case"] for u in summary["use_cases"]]
    assert db.count("closure_requests") == 0
    assert db.one("accounts", number=number)["status"] == ports.ACTIVE


def test_closure_without_a_balance_is_accepted_with_a_stored_reference(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    number, pin, phone = ZHANG_MIN
    summary = call(capsys, db, f"1 3 {number}# {pin} 1 1", ani=phone)

    assert [u["use_case"] for u in summary["use_cases"]] == [
        "verify_identity", "check_closure", "record_closure_confirmation", "close_account",
    ]  # fmt: skip
    closed = use_case(summary, "close_account")
    reference = closed["data"]["reference"]
    assert closed["outcome"] == "closed" and re.fullmatch(r"\d{8}", reference)
    assert texts(summary).count(reference) == 2  # read out twice
    assert summary["outcome"] == "solved"

    request = db.one("closure_requests")
    assert (request["account_number"], request["call_id"], request["reference"]) == (
        number, summary["call_id"], reference,
    )  # fmt: skip
    assert request["confirmations"] == 2 and request["closed_at"] is not None
    assert db.one("accounts", number=number)["status"] == ports.CLOSED
    audit = [(a["action"], a["detail"]) for a in db.rows("audit_log", account_number=number)]
    assert audit == [
        ("closure_checked", {}),
        ("closure_confirmed", {"count": 1}),
        ("account_closed", {"reference": reference}),
    ]

    again = call(capsys, db, f"1 3 {number}# {pin}", ani=phone)  # a closed account
    assert outcomes(again, "verify_identity") == ["closed"]  # cannot be used any more
    assert "account_closed" in said(again) and "verify_retry" not in said(again)
    assert again["verified_account"] is None
    assert db.count("closure_requests") == 1


def test_closure_cancelled_at_the_last_confirmation_closes_nothing(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    number, pin, phone = ZHANG_MIN
    summary = call(capsys, db, f"1 3 {number}# {pin} 1 2 9", ani=phone)

    assert "closure_cancelled" in said(summary)
    assert "close_account" not in [u["use_case"] for u in summary["use_cases"]]
    assert db.one("closure_requests")["reference"] is None
    assert db.one("accounts", number=number)["status"] == ports.ACTIVE


def test_the_security_branch_freezes_the_account_and_opens_a_fraud_incident(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    number, pin, phone = EMMA
    summary = call(capsys, db, f"1 4 {number}# {pin}", ani=phone)

    frozen = use_case(summary, "freeze_account")
    assert frozen["outcome"] == "frozen"
    incident = db.one("security_incidents")
    assert frozen["data"] == {"incident": incident["reference"]}
    assert f"Your incident number is {incident['reference']}." in texts(summary)
    assert (incident["account_number"], incident["kind"], incident["call_id"]) == (
        number, "fraud_report", summary["call_id"],
    )  # fmt: skip
    assert db.one("accounts", number=number)["status"] == ports.FROZEN
    audit = db.one("audit_log", action="account_frozen")
    assert audit["detail"] == {"incident": incident["reference"], "was_frozen": False}
    assert enqueued(summary) == {
        "queue": "security", "priority": 10, "skill": "security", "callback": "offer",
        "language": "en",
    }  # fmt: skip


def test_an_already_frozen_account_still_reaches_security(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    number, pin, phone = CHEN_JIE
    summary = call(capsys, db, f"2 4 {number}# {pin}", ani=phone)

    assert use_case(summary, "freeze_account")["outcome"] == "already_frozen"
    assert enqueued(summary)["queue"] == "security"
    assert db.one("audit_log", action="account_frozen")["detail"]["was_frozen"] is True


def test_a_reset_code_goes_to_the_accounts_phone(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    number, pin, phone = LI_WEI
    summary, raw = ivr_call(capsys, f"1 1 {number}# {pin} 9", ani=UNKNOWN_CALLER)
    assert_recorded(db, summary)

    sent = use_case(summary, "send_reset_code")
    assert (sent["outcome"], sent["data"]) == ("sent", {"phone_last4": "8001"})
    assert "ending in 8001" in texts(summary)
    sms = db.one("sms_outbox")
    assert (sms["to"], sms["status"]) == (phone, "queued")  # not the number calling
    assert "验证码" in sms["body"]  # in the account holder's language (zh)
    found = re.search(r"\d{6}", sms["body"])
    assert found is not None
    code = found.group()
    assert code not in raw  # never spoken or shown
    reset = db.one("password_resets")
    assert reset["account_number"] == number
    secret = Settings.from_env().secret()  # the key ``ivr call`` hashed the code with
    keyed = hmac.new(secret, f"reset-code:{number}:{code}".encode(), hashlib.sha256)
    assert reset["code_hash"] == keyed.hexdigest()
    assert code not in reset["code_hash"]
    assert reset["expires_at"] - reset["created_at"] == timedelta(minutes=15)
    audit = db.one("audit_log", action="reset_code_sent")
    assert (audit["account_number"], audit["detail"]) == (number, {"to_last4": "8001"})


# -- what every call leaves behind ------------------------------------------------------------


def test_every_call_leaves_exactly_one_call_record(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    number, pin, phone = LI_WEI
    calls = [
        (f"1 2 {number}# {pin} 9", "solved", "payment_failure", number, None),
        ("1 0", "queued", None, None, "general"),
        ("1 2 h", "abandoned", "payment_failure", None, None),
        ("1 1", "abandoned", "password_reset", None, None),  # the keys run out
        (f"1 3 {number}# {pin} 9", "unsolved", "account_closure", number, None),
    ]
    ids = []
    for keys, outcome, reason, verified, queue in calls:
        summary = call(capsys, db, keys, ani=phone)
        row = db.one("call_records", call_id=summary["call_id"])
        assert (row["outcome"], row["reason"], row["account_number"], row["queue"]) == (
            outcome, reason, verified, queue,
        ), keys  # fmt: skip
        assert row["path"][0] == "choose_language" and row["path"][-1] == row["last_node"]
        ids.append(summary["call_id"])
    assert sorted(r["call_id"] for r in db.rows("call_records")) == sorted(ids)


def test_the_pin_appears_in_no_log_transcript_or_table(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, db: Db
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # its own level is WARNING: SQL too
    secrets_typed = {LI_WEI[1], EMMA[1], WRONG_PIN}
    outputs = []
    scripts = [
        (f"1 2 {LI_WEI[0]}# {LI_WEI[1]} 9", LI_WEI[2], True),
        (f"1 1 {LI_WEI[0]}# {WRONG_PIN} {LI_WEI[0]}# {LI_WEI[1]} 9", UNKNOWN_CALLER, True),
        (f"1 4 {EMMA[0]}# {EMMA[1]}", EMMA[2], True),
        (f"1 2 {EMMA[0]}# {EMMA[1]} 9", EMMA[2], False),  # the terminal transcript too
        ("1 2 " + f"{LI_WEI[0]}# {WRONG_PIN} " * 3, LI_WEI[2], True),
        ("1 2 " + f"{LI_WEI[0]}# {WRONG_PIN} " * 2, LI_WEI[2], True),  # the fifth: locked
        (f"1 2 {LI_WEI[0]}# {LI_WEI[1]}", LI_WEI[2], True),  # the right PIN, locked out
    ]
    # One call a minute: each ``ivr call --at`` starts its clock there, so calls that count
    # on the order of earlier calls (a success, then failures) must start in that order.
    for minute, (keys, ani, as_json) in enumerate(scripts):
        at = (OPEN_UTC + timedelta(minutes=minute)).isoformat()
        argv = ["call", "--keys", keys, "--ani", ani, "--at", at] + (["--json"] * as_json)
        assert cli.main(argv) == 0
        captured = capsys.readouterr()
        outputs += [captured.out, captured.err]
        if as_json:
            assert_recorded(db, json.loads(captured.out))
    assert "YOU  ****" in "".join(outputs)
    assert db.count("security_incidents", kind="verification_lockout") == 1

    logged = [
        without_times(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}") for r in caplog.records
    ]
    assert any("SELECT" in line for line in logged), "expected SQL in the DEBUG log"
    table_text = without_times(db.dump())
    assert "scrypt-hmac$" in table_text  # the dump really holds the accounts
    for pin in secrets_typed:
        assert not [line for line in logged if pin in line], f"PIN {pin} in a log line"
        assert not [text for text in outputs if pin in text], f"PIN {pin} in a transcript"
        assert pin not in table_text, f"PIN {pin} in a table"
