"""The terminal phone (``ivr call``) end to end: the real flow, the demo accounts seeded
into a real SQLite database (``IVR_DATABASE_URL``), every branch of the hotline, in-process
and as a real command; and how it fails when the database is not ready or not there."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from integration.support import (
    CLOSED,
    EMMA,
    LI_WEI,
    OPEN,
    OPEN_UTC,
    ROOT,
    ZHANG_MIN,
    Db,
    enqueued,
    heard,
    ivr_call,
    said,
    texts,
    use_case,
)
from ivr.app import cli
from ivr.services import ports

#: SQLite only here; test_verification_flow.py walks the same branches on PostgreSQL too.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture(autouse=True)
def hotline_env(seeded_env: str) -> str:
    """The real flow, whatever the working directory, and ``IVR_DATABASE_URL`` set to a
    fresh SQLite database of this test's own, upgraded and seeded."""
    return seeded_env


# -- the four branches and the agent ----------------------------------------------------------


def test_password_reset_texts_a_code_to_the_accounts_phone(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    number, pin, phone = LI_WEI
    summary, _ = ivr_call(capsys, f"1 1 {number}# {pin} 9", ani="+15550000000")

    assert summary["outcome"] == "solved" and summary["reason"] == "password_reset"
    assert summary["verified_account"] == number
    sent = use_case(summary, "send_reset_code")
    assert sent["outcome"] == "sent" and sent["data"] == {"phone_last4": "8001"}
    assert "ending in 8001" in texts(summary)
    outbox = db.rows("sms_outbox")
    assert [sms["to"] for sms in outbox] == [phone]  # the account's phone, not the caller's
    code = re.search(r"\d{6}", outbox[0]["body"])
    assert code is not None and code.group() not in json.dumps(summary)


@pytest.mark.parametrize(
    ("who", "reason", "heard"),
    [
        (LI_WEI, "insufficient_funds", "your wallet balance was too low"),
        (EMMA, "risk_control_hold", "Our security checks paused it"),
    ],
)
def test_payment_failure_says_the_seeded_reason(
    capsys: pytest.CaptureFixture[str], who: tuple[str, str, str], reason: str, heard: str
) -> None:
    number, pin, phone = who
    summary, _ = ivr_call(capsys, f"1 2 {number}# {pin} 9", ani=phone)

    lookup = use_case(summary, "lookup_failed_payment")
    assert lookup["outcome"] == "found" and lookup["data"]["failure_reason"] == reason
    assert f"payment_reason_{reason}" in said(summary)
    assert heard in texts(summary)
    assert summary["outcome"] == "solved"


def test_closure_is_refused_while_there_is_a_balance(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    number, pin, phone = LI_WEI
    summary, _ = ivr_call(capsys, f"1 3 {number}# {pin} 9", ani=phone)

    check = use_case(summary, "check_closure")
    assert check == {**check, "outcome": "balance_not_zero", "data": {"balance": "1250.00 yuan"}}
    assert "Your wallet still holds 1250.00 yuan." in texts(summary)
    assert summary["outcome"] == "unsolved"
    assert "close_account" not in [u["use_case"] for u in summary["use_cases"]]
    assert db.one("accounts", number=number)["status"] == ports.ACTIVE


def test_closure_with_two_confirmations_gives_a_reference(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    number, pin, phone = ZHANG_MIN
    summary, _ = ivr_call(capsys, f"1 3 {number}# {pin} 1 1", ani=phone)

    assert [u["use_case"] for u in summary["use_cases"]] == [
        "verify_identity",
        "check_closure",
        "record_closure_confirmation",
        "close_account",
    ]
    assert said(summary).index("closure_confirm_first") < said(summary).index(
        "closure_confirm_final"
    )
    closed = use_case(summary, "close_account")
    reference = closed["data"]["reference"]
    assert closed["outcome"] == "closed" and reference
    assert texts(summary).count(reference) == 2  # read out twice
    assert summary["outcome"] == "solved"
    assert db.one("accounts", number=number)["status"] == ports.CLOSED
    assert db.one("closure_requests", account_number=number)["reference"] == reference


def test_closure_cancelled_at_the_last_confirmation_closes_nothing(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    number, pin, phone = ZHANG_MIN
    summary, _ = ivr_call(capsys, f"1 3 {number}# {pin} 1 2 9", ani=phone)

    assert "closure_cancelled" in said(summary)
    assert "close_account" not in [u["use_case"] for u in summary["use_cases"]]
    assert db.one("accounts", number=number)["status"] == ports.ACTIVE


def test_security_freezes_and_queues_to_security_first(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    number, pin, phone = EMMA
    summary, _ = ivr_call(capsys, f"1 4 {number}# {pin}", ani=phone)

    frozen = use_case(summary, "freeze_account")
    assert frozen["outcome"] == "frozen" and frozen["data"]["incident"]
    assert f"Your incident number is {frozen['data']['incident']}." in texts(summary)
    assert enqueued(summary) == {
        "queue": "security",
        "priority": 10,
        "skill": "security",
        "callback": "offer",
        "language": "en",
    }
    assert summary["outcome"] == "queued"
    assert db.one("accounts", number=number)["status"] == ports.FROZEN
    incidents = db.rows("security_incidents")
    assert [(i["account_number"], i["kind"]) for i in incidents] == [(number, "fraud_report")]


def test_an_agent_when_the_agents_are_in(capsys: pytest.CaptureFixture[str]) -> None:
    summary, _ = ivr_call(capsys, "1 0", at=OPEN)

    assert enqueued(summary) == {
        "queue": "general",
        "priority": 1,
        "skill": "general",
        "callback": "offer",
        "language": "en",
    }
    assert "transferring_to_agent" in said(summary)
    assert summary["ended_at_node"] == "agent"


def test_only_a_callback_after_hours(capsys: pytest.CaptureFixture[str]) -> None:
    summary, _ = ivr_call(capsys, "1 0", at=CLOSED)

    assert enqueued(summary)["callback"] == "only"
    assert enqueued(summary)["queue"] == "general"
    assert "after_hours" in said(summary)
    assert summary["ended_at_node"] == "agent_callback"


def test_a_time_without_offset_is_utc(capsys: pytest.CaptureFixture[str]) -> None:
    naive_utc = OPEN_UTC.strftime("%Y-%m-%dT%H:%M")  # 10:00 in Beijing
    summary, _ = ivr_call(capsys, "1 0", at=naive_utc)

    assert enqueued(summary)["callback"] == "offer"


# -- identification, language, secrecy -----------------------------------------------------


def test_three_wrong_pins_go_to_verify_failed(capsys: pytest.CaptureFixture[str]) -> None:
    number, _, phone = LI_WEI
    wrong = f"{number}# 000000 "
    summary, _ = ivr_call(capsys, "1 2 " + wrong * 3, ani=phone)

    checks = [u["outcome"] for u in summary["use_cases"] if u["use_case"] == "verify_identity"]
    assert checks == ["failure", "failure", "failure"]
    assert said(summary).count("verify_retry") == 2
    assert "verify_failed" in summary["nodes"]
    assert summary["verified_account"] is None
    assert summary["outcome"] == "queued"


def test_a_chinese_call_speaks_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    number, pin, phone = LI_WEI
    summary, _ = ivr_call(capsys, f"2 2 {number}# {pin} 9", ani=phone)

    assert summary["language"] == "zh"
    spoken = texts(summary)
    assert "您最近一笔失败的支付，是11月20日向Fresh Mart付款89.90元。" in spoken
    assert "余额不足" in spoken
    assert "感谢您的来电，再见。" in spoken
    assert {p["language"] for p in heard(summary["events"][2:])} == {"zh"}


def test_a_known_language_skips_the_question(capsys: pytest.CaptureFixture[str]) -> None:
    summary, _ = ivr_call(capsys, "0", lang="zh")

    assert "choose_language" not in said(summary)
    assert summary["language"] == "zh"
    assert enqueued(summary)["language"] == "zh"


def test_the_pin_is_masked_in_the_json(capsys: pytest.CaptureFixture[str]) -> None:
    number, pin, phone = LI_WEI
    summary, raw = ivr_call(capsys, f"1 2 {number}# {pin} 9", ani=phone)

    assert pin not in raw
    [typed] = [e["input"] for e in summary["events"] if e.get("input", {}).get("node") == "ask_pin"]
    assert typed == {"node": "ask_pin", "keys": "****"}
    assert summary["verified_account"] == number


def test_the_pin_is_masked_on_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    number, pin, phone = LI_WEI
    code = cli.main(["call", "--keys", f"1 2 {number}# {pin} 9", "--ani", phone, "--at", OPEN])
    out = capsys.readouterr().out

    assert code == 0
    assert pin not in out
    assert "YOU  ****" in out
    assert "END  hung up (solved)" in out


# -- wrong input and running out of keys -----------------------------------------------------


def test_garbage_keys_exit_2_naming_the_token(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["call", "--keys", "1 x", "--json"])
    captured = capsys.readouterr()

    assert code == 2
    assert "token 2" in captured.err and "'x'" in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    "argv",
    [["--at", "next tuesday"], ["--lang", "fr"]],
)
def test_bad_options_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code = cli.main(["call", "--keys", "1 0", "--json", *argv])

    assert code == 2
    assert capsys.readouterr().err.startswith("ivr call: ")


def test_keys_running_out_is_a_hang_up(capsys: pytest.CaptureFixture[str]) -> None:
    summary, _ = ivr_call(capsys, "1 2")

    assert summary["outcome"] == "abandoned"
    assert summary["ended_at_node"] == "ask_account"
    assert summary["events"][-1] == {"input": {"node": "ask_account", "hangup": True}}


def test_silence_and_hang_up_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    summary, _ = ivr_call(capsys, "t 1 h")

    assert summary["outcome"] == "abandoned" and summary["language"] == "en"
    assert "no_input" in said(summary)


# -- the real command ------------------------------------------------------------------------


def test_the_command_runs_as_a_program() -> None:
    number, pin, phone = LI_WEI
    done = subprocess.run(
        [sys.executable, "-m", "ivr.app.cli", "call", "--keys", f"1 2 {number}# {pin} 9",
         "--ani", phone, "--at", OPEN, "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["outcome"] == "solved"
    assert use_case(summary, "lookup_failed_payment")["data"]["failure_reason"] == (
        "insufficient_funds"
    )
    assert pin not in done.stdout


def test_the_installed_console_script_runs() -> None:
    script = Path(sys.executable).parent / "ivr"
    if not script.exists():
        pytest.skip("no ivr console script next to this Python")
    done = subprocess.run(
        [str(script), "call", "--keys", "1 0", "--at", OPEN, "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ended_at_node"] == "agent"


# -- a database that is not ready, or not there ----------------------------------------------


def test_the_default_database_is_an_sqlite_file_under_var(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("IVR_DATABASE_URL")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["db", "upgrade"]) == 0
    assert cli.main(["seed", "--demo"]) == 0
    capsys.readouterr()
    assert (tmp_path / "var" / "ivr.sqlite3").is_file()

    number, pin, phone = LI_WEI
    summary, _ = ivr_call(capsys, f"1 2 {number}# {pin} 9", ani=phone)
    assert summary["verified_account"] == number


UNREACHABLE = "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/test"  # nothing listens on 1


@pytest.mark.parametrize(
    "argv",
    [["call", "--keys", "1 0", "--json"], ["db", "status"], ["db", "upgrade"], ["seed", "--demo"]],
    ids=["call", "db-status", "db-upgrade", "seed"],
)
def test_an_unreachable_postgresql_is_a_clear_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.setenv("IVR_DATABASE_URL", UNREACHABLE)
    code = cli.main(argv)
    captured = capsys.readouterr()

    assert code == 1
    assert captured.out == ""
    first = captured.err.splitlines()[0]
    command = " ".join(argv[:1])
    assert first.startswith(
        f"ivr {command}: database postgresql+psycopg://postgres:***@127.0.0.1:1/test: "
    ), first
    assert "connection failed" in first and "Connection refused" in first
    assert "Traceback" not in captured.err
    assert "s3cret" not in captured.err  # the password is never printed


def test_an_unreachable_postgresql_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IVR_DATABASE_URL", UNREACHABLE)
    assert cli.main(["call", "--keys", "1 0", "--json"]) == 1
    assert len(capsys.readouterr().err.splitlines()) == 1
