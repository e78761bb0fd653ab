"""The AGI driver end to end: ``run_call`` over in-memory streams with a scripted Asterisk
(``tests/agi_fake.py``, replying as the captured Asterisk 22 transcripts do) against the
real flow and a seeded SQLite database; and ``agi_scripts/hotline.agi`` as a real process
talking to the same fake over its stdin and stdout.

Key scripts: a key is pressed during the next prompt that can be interrupted or the next
``WAIT FOR DIGIT``; ``t`` is silence until a wait times out; ``~`` lets one prompt step
play to its end (the caller listens instead of typing ahead); ``h`` hangs up."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import threading
from pathlib import Path

import pytest
from agi_fake import (
    DEAD,
    HANGUP_STYLES,
    USAGE,
    FakeAsterisk,
    Interference,
    close_pipes,
    environment,
)
from asterisk.agi import AGIHangup

from integration.support import LI_WEI, ROOT, Db, StoppedClock, clock_environment, sign_in_busy
from ivr.app.bootstrap import Components
from ivr.phone.asterisk.agi_call import run_call
from ivr.phone.asterisk.agi_line import AgiLine
from ivr.phone.line import CallerGone
from ivr.phone.session import CallSession

#: SQLite only: the use cases run on PostgreSQL in test_verification_flow.py.
sqlite = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

SCRIPT = ROOT / "agi_scripts" / "hotline.agi"
NUMBER, PIN, PHONE = LI_WEI
CALL_ID = "1795423433.19"  # agi_uniqueid of the captured environment
CALLER = "+8613800138001"
#: English, password reset, account and #, PIN, "all set"; the caller listens to each
#: announcement (the welcome, the branch's opening, the three steps of "code sent").
RESET = f"1 ~1 ~{NUMBER}# {PIN} ~~~9"
PIN_KEY_REPLIES = [f"result={ord(k)}" for k in set(PIN) - set(NUMBER) - set("19")]


def call(hotline: Components, fake: FakeAsterisk) -> tuple[AgiLine, CallSession]:
    line = AgiLine(fake, fake)
    if fake.hangup == "process":
        fake.on_sighup = line.flag_hangup  # what hotline.agi's SIGHUP handler does
    return line, run_call(line, hotline, "agi")


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every log record's message, arguments and traceback, as one text; without what
    could spell a PIN by chance (object addresses, times, SQLAlchemy's timings)."""
    text = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    text = re.sub(r"0x[0-9a-f]+", "0x...", text)
    text = re.sub(r"datetime\.datetime\([^)]*\)", "datetime(...)", text)
    text = re.sub(r"(\d\d:\d\d:\d\d)\.\d+", r"\1", text)
    return re.sub(r"\d+\.\d+s\b", "?s", text)


def debug_everything(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")


def after_hangup(fake: FakeAsterisk) -> list[str]:
    assert fake.hung_up_at is not None
    return fake.commands[fake.hung_up_at + 1 :]


# -- a whole call ------------------------------------------------------------------------------


@sqlite
def test_password_reset_over_agi(
    hotline: Components, db: Db, caplog: pytest.LogCaptureFixture
) -> None:
    debug_everything(caplog)
    fake = FakeAsterisk(RESET)

    _, session = call(hotline, fake)

    commands = fake.commands
    assert commands[0] == "ANSWER"
    assert commands[1] == "STREAM FILE en/choose_language 0123456789*#"
    assert 'SET VARIABLE IVR_LANGUAGE "en"' in commands
    assert 'SET VARIABLE IVR_REASON "password_reset"' in commands
    # Announcements before a question may be interrupted (type-ahead); this caller listens.
    assert "STREAM FILE en/welcome 0123456789*#" in commands
    assert "STREAM FILE en/main_menu 0123456789*#" in commands
    assert commands.count("WAIT FOR DIGIT 8000") == 7 + 5  # barge-in gave the first key
    assert commands.count("WAIT FOR DIGIT 2000") == 1  # the # after the account number
    assert "SAY DIGITS 8001 0123456789*#" in commands  # "ending in 8001"
    assert commands[-2:] == ['SET VARIABLE IVR_OUTCOME "solved"', "HANGUP"]
    # personal data stays out of channel variables (and so out of Asterisk's logs)
    assert not {"IVR_PHONE_LAST4", "IVR_ACCOUNT_NUMBER", "IVR_HOLDER_NAME"} & set(fake.variables)
    assert not [c for c in commands if PIN in c]

    [sms] = db.rows("sms_outbox")
    assert sms["to"] == PHONE
    code = re.search(r"\d{6}", sms["body"])
    assert code is not None and code.group() not in "\n".join(commands)
    record = db.one("call_records", call_id=CALL_ID)
    assert (record["channel"], record["caller_id"], record["outcome"]) == ("agi", CALLER, "solved")
    assert (record["reason"], record["account_number"]) == ("password_reset", NUMBER)
    assert record["last_node"] == "goodbye" and "ask_pin" in record["path"]
    assert session.record is not None and session.record.outcome == "solved"

    text = logged(caplog)
    assert "AGI << 200 result=57" in text  # replies are logged (the 9 at anything_else) ...
    assert "SELECT" in text
    assert PIN not in text  # ... but never a secure gather's
    assert not [r for r in PIN_KEY_REPLIES if r in text]


@sqlite
def test_timeouts_to_the_retry_limit_queue_the_caller(hotline: Components, db: Db) -> None:
    sign_in_busy(db)  # someone who could take the call is signed in (busy)
    fake = FakeAsterisk("t t  t t t")  # language: 2 timeouts; main menu: 3

    call(hotline, fake)

    assert fake.commands.count("WAIT FOR DIGIT 4000") == 2  # choose_language (4 s)
    assert fake.commands.count("WAIT FOR DIGIT 6000") == 3  # main_menu (6 s)
    assert fake.commands.count("STREAM FILE en/no_input 0123456789*#") == 3
    queued = fake.commands.index('SET VARIABLE IVR_OUTCOME "queued"')
    assert fake.commands[queued - 5 : queued + 1] == [
        'SET VARIABLE IVR_QUEUE "general"',
        'SET VARIABLE IVR_PRIORITY "1"',
        'SET VARIABLE IVR_SKILL "general"',
        'SET VARIABLE IVR_CALLBACK "offer"',
        'SET VARIABLE IVR_LANGUAGE "en"',
        'SET VARIABLE IVR_OUTCOME "queued"',  # last: the dialplan sees a complete set
    ]
    # The controller holds the caller itself: the place in line, the estimate (3 minutes:
    # one agent staffed, the default handle time), the callback offer; the caller hangs up.
    assert fake.commands[queued + 1 : queued + 6] == [
        'STREAM FILE en/queue_position.1 ""',
        'SAY NUMBER 1 ""',
        'STREAM FILE en/queue_position.2 ""',
        'STREAM FILE en/queue_estimate.1 ""',
        'SAY NUMBER 3 ""',
    ]
    assert "STREAM FILE en/queue_callback_offer 1" in fake.commands
    assert "HANGUP" not in fake.commands
    record = db.one("call_records", call_id=CALL_ID)
    assert (record["outcome"], record["queue"]) == ("queued", "general")
    assert record["last_node"] == "agent"
    entry = db.one("queue_entries", call_id=CALL_ID)
    assert (entry["state"], entry["queue"], entry["path"][-1]) == ("abandoned", "general", "agent")


@sqlite
def test_the_finish_key_ends_a_gather_early(hotline: Components, db: Db) -> None:
    fake = FakeAsterisk("1 ~1 ~1234# h")

    call(hotline, fake)

    entry = fake.commands.index("STREAM FILE en/enter_account_number 0123456789*#")
    assert fake.commands[entry + 1 : entry + 6] == [
        "WAIT FOR DIGIT 8000",
        "WAIT FOR DIGIT 8000",
        "WAIT FOR DIGIT 8000",
        "WAIT FOR DIGIT 8000",  # the #: no more waiting
        "STREAM FILE en/invalid_choice 0123456789*#",
    ]
    assert db.one("call_records", call_id=CALL_ID)["last_node"] == "ask_account"


@sqlite
def test_a_full_entry_waits_briefly_for_its_finish_key(hotline: Components, db: Db) -> None:
    """8 digits and no #: after a short wait the entry counts, and the PIN is not cut."""
    fake = FakeAsterisk(f"1 ~1 ~{NUMBER} t {PIN} 9")

    call(hotline, fake)

    entry = fake.commands.index("STREAM FILE en/enter_account_number 0123456789*#")
    assert fake.commands[entry + 7 : entry + 10] == [
        "WAIT FOR DIGIT 8000",  # the 8th digit
        "WAIT FOR DIGIT 2000",  # a moment for the # the prompt asks for; silence
        "STREAM FILE en/enter_pin 0123456789*#",
    ]
    record = db.one("call_records", call_id=CALL_ID)
    assert (record["outcome"], record["account_number"]) == ("solved", NUMBER)


@sqlite
def test_a_key_past_a_full_entry_is_not_its_finish_key(hotline: Components, db: Db) -> None:
    fake = FakeAsterisk(f"1 1 {NUMBER}7 h")

    call(hotline, fake)

    at = fake.commands.index("WAIT FOR DIGIT 2000")
    assert fake.commands[at + 1] == "STREAM FILE en/invalid_choice 0123456789*#"


@sqlite
def test_a_key_pressed_during_the_welcome_chooses_from_the_main_menu(
    hotline: Components, db: Db
) -> None:
    fake = FakeAsterisk("1 1 ~ h")  # English; 1 during the welcome; listens, hangs up

    call(hotline, fake)

    welcome = fake.commands.index("STREAM FILE en/welcome 0123456789*#")
    assert fake.replies[welcome] == [f"200 result={ord('1')} endpos=4000"]  # cut short
    assert fake.commands[welcome + 1 : welcome + 3] == [
        'SET VARIABLE IVR_REASON "password_reset"',  # the menu's choice 1, at once
        "STREAM FILE en/reset_intro 0123456789*#",
    ]
    assert not fake.sent("STREAM FILE en/main_menu")  # the menu prompt was never played
    record = db.one("call_records", call_id=CALL_ID)
    assert (record["reason"], record["outcome"]) == ("password_reset", "abandoned")
    assert "main_menu" in record["path"] and "reset_intro" in record["path"]


@sqlite
def test_a_missing_prompt_file_is_not_a_hang_up(
    hotline: Components, db: Db, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeAsterisk("1 0", missing={"en/welcome"})

    call(hotline, fake)

    at = fake.commands.index("STREAM FILE en/welcome 0123456789*#")
    assert fake.commands[at + 1] == "CHANNEL STATUS"  # -1: hung up, or failed? Ask.
    assert fake.commands[at + 2] == "STREAM FILE en/main_menu 0123456789*#"
    assert db.one("call_records", call_id=CALL_ID)["outcome"] == "queued"
    assert "en/welcome" in logged(caplog) and "still there" in logged(caplog)


# -- hanging up --------------------------------------------------------------------------------


@sqlite
@pytest.mark.parametrize("style", HANGUP_STYLES)
def test_hanging_up_during_pin_entry_is_abandoned_at_ask_pin(
    hotline: Components, db: Db, caplog: pytest.LogCaptureFixture, style: str
) -> None:
    debug_everything(caplog)
    fake = FakeAsterisk(f"1 1 {NUMBER}# 2468h", hangup=style)

    line, session = call(hotline, fake)

    record = db.one("call_records", call_id=CALL_ID)
    assert (record["outcome"], record["last_node"]) == ("abandoned", "ask_pin")
    assert session.ended and line.hung_up
    assert db.count("verification_attempts") == 0  # the check never ran: nothing half-done
    assert db.count("sms_outbox") == 0 and "IVR_OUTCOME" not in fake.variables
    assert set(after_hangup(fake)) <= {"CHANNEL STATUS"}  # at most the -1 probe
    if style == "process":
        assert after_hangup(fake) == []  # SIGHUP came first: no probe needed
    text = logged(caplog)
    assert "hung up at ask_pin" in text
    assert "2468" not in text and not [r for r in PIN_KEY_REPLIES if r in text]


@sqlite
def test_hanging_up_while_a_use_case_runs_keeps_what_it_did(hotline: Components, db: Db) -> None:
    fake = FakeAsterisk(f"1 1 {NUMBER}# {PIN} h", hangup="between")  # gone after the PIN

    call(hotline, fake)

    record = db.one("call_records", call_id=CALL_ID)
    assert (record["outcome"], record["account_number"]) == ("abandoned", NUMBER)
    assert record["last_node"] == "anything_else"  # where the call had got to
    assert db.count("sms_outbox") == 1  # the reset code went out before the hang-up


@sqlite
def test_hanging_up_before_the_first_prompt(hotline: Components, db: Db) -> None:
    fake = FakeAsterisk("1", interfere=[Interference("ANSWER", ["HANGUP", DEAD])])

    call(hotline, fake)

    assert fake.commands == ["ANSWER"]
    record = db.one("call_records", call_id=CALL_ID)
    assert (record["outcome"], record["last_node"]) == ("abandoned", "choose_language")


class _BrokenPipe:
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        pass


@sqlite
def test_a_broken_pipe_is_a_hang_up(hotline: Components, db: Db) -> None:
    fake = FakeAsterisk("1")
    line = AgiLine(fake, _BrokenPipe())

    run_call(line, hotline, "agi")

    assert db.one("call_records", call_id=CALL_ID)["outcome"] == "abandoned"


# -- protocol errors: logged, recorded, back to the dialplan ------------------------------------


@pytest.mark.parametrize(
    ("where", "reply", "node"),
    [
        ("STREAM FILE en/main_menu", ["totally garbage"], "main_menu"),
        ("STREAM FILE en/main_menu", [""], "main_menu"),  # an empty line
        ('SET VARIABLE IVR_LANGUAGE "en"', ["510 Invalid or unknown command"], "main_menu"),
        ("STREAM FILE en/choose_language", USAGE, "choose_language"),
    ],
    ids=["garbage", "empty-line", "510", "520"],
)
@sqlite
def test_a_protocol_error_is_logged_and_the_call_returns_to_the_dialplan(
    hotline: Components,
    db: Db,
    caplog: pytest.LogCaptureFixture,
    where: str,
    reply: list[str],
    node: str,
) -> None:
    fake = FakeAsterisk("1 ~1", interfere=[Interference(where, reply)])

    call(hotline, fake)

    assert fake.commands[-1].startswith(where)  # nothing sent after it
    assert "IVR_OUTCOME" not in fake.variables  # the dialplan takes the safe route
    record = db.one("call_records", call_id=CALL_ID)
    assert (record["outcome"], record["last_node"]) == ("abandoned", node)
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert reply[0] in error.getMessage() and "back to the dialplan" in error.getMessage()


@sqlite
@pytest.mark.parametrize("garbage", ["200 result=2468", "2468 10", "200 result=50 (6"])
def test_garbage_during_pin_entry_is_logged_without_the_line(
    hotline: Components, db: Db, caplog: pytest.LogCaptureFixture, garbage: str
) -> None:
    debug_everything(caplog)
    third_pin_key = Interference("WAIT FOR DIGIT", [garbage], skip=7 + 2)
    fake = FakeAsterisk(f"1 1 {NUMBER}# {PIN}", interfere=[third_pin_key])

    call(hotline, fake)

    record = db.one("call_records", call_id=CALL_ID)
    assert (record["outcome"], record["last_node"]) == ("abandoned", "ask_pin")
    assert db.count("verification_attempts") == 0
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "secure gather" in error.getMessage() and "AgiPeerError" in error.getMessage()
    text = logged(caplog)
    assert "2468" not in text and garbage not in text


# -- AgiLine as pyst2 ------------------------------------------------------------------------


def test_the_line_is_pyst2_without_its_signal_handler_or_stderr(
    capfd: pytest.CaptureFixture[str],
) -> None:
    before = signal.getsignal(signal.SIGHUP)
    fake = FakeAsterisk("5 t h", hangup="between")

    line = AgiLine(fake, fake)
    line.answer()  # pyst2's own methods, over our send_command and get_result
    line.set_variable("IVR_X", "y")
    digit = line.wait_for_digit(5000)
    nothing = line.stream_file("en/x", "12")
    silence = line.wait_for_digit(5000)
    with pytest.raises(AGIHangup):
        line.wait_for_digit(5000)

    assert (digit, nothing, silence) == ("5", "", "")
    assert fake.variables == {"IVR_X": "y"}
    assert fake.commands[:2] == ["ANSWER", 'SET VARIABLE "IVR_X" "y"']
    assert signal.getsignal(signal.SIGHUP) is before
    assert capfd.readouterr().err == ""
    assert line.env.call_id == CALL_ID and line.env["agi_language"] == "en"
    with pytest.raises(CallerGone):
        line.test_hangup()  # the line knows: nothing more is sent


def test_pyst2s_sighup_handler_flags_the_line() -> None:
    line = AgiLine(FakeAsterisk(), FakeAsterisk())

    line._handle_sighup(signal.SIGHUP, None)

    assert line.hung_up
    with pytest.raises(CallerGone):
        line.test_hangup()


# -- hotline.agi as Asterisk runs it ---------------------------------------------------------


def test_the_script_is_executable() -> None:
    assert os.access(SCRIPT, os.X_OK)
    assert SCRIPT.read_text(encoding="utf-8").startswith("#!/bin/sh\n")


@sqlite
@pytest.mark.parametrize("style", ["process", "eof", "between"])
def test_hotline_agi_answers_and_a_hang_up_ends_it_cleanly(
    seeded_url: str, db: Db, tmp_path: Path, style: str, clock: StoppedClock
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IVR_")},
        "IVR_DATABASE_URL": seeded_url,  # IVR_FLOW unset: the project's callflows.yaml
        "IVR_FASTAGI_PORT": "off",  # in-process, whatever listens on 4573
        **clock_environment(clock),
    }
    captured = environment(agi_uniqueid=f"process.{style}")
    # AGI(hotline.agi) with no arguments, as the dialplan runs it (a first one names a script)
    plain = [line for line in captured if not line.startswith("agi_arg_")]
    fake = FakeAsterisk(f"1 1 {NUMBER}# 24h", hangup=style, env=plain)
    process = subprocess.Popen(
        [str(SCRIPT)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,  # Asterisk's working directory is not the project
        env=env,
    )
    fake.on_sighup = lambda: process.send_signal(signal.SIGHUP)
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    try:
        fake.talk_to(process)
        assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    finally:
        watchdog.cancel()
        process.kill()
        close_pipes(process)

    assert fake.commands[0] == "ANSWER"
    assert fake.commands[1] == "STREAM FILE en/choose_language 0123456789*#"
    record = db.one("call_records", call_id=f"process.{style}")
    assert (record["channel"], record["outcome"], record["last_node"]) == (
        "agi",
        "abandoned",
        "ask_pin",
    )
    assert db.count("verification_attempts") == 0
