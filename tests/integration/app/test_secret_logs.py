"""Secrets at rest and in logs, end to end: with ``IVR_LOG_LEVEL=DEBUG`` and every logger
at DEBUG, whole calls over the AGI driver (the scripted Asterisk of ``tests/agi_fake.py``)
and the terminal phone log neither a callback code, nor a PIN, nor a password-reset code
(the Twilio webhooks: ``test_twilio_voice.py``); and once the SMS outbox is sent, no row
of any table holds the reset code, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from agi_fake import FakeAsterisk

from integration.phone.asterisk.test_agi_driver import CALL_ID, RESET, call, logged
from integration.phone.asterisk.test_holding_over_agi import (
    TO_THE_QUEUE,
    answered_callback_call,
    placed_callback,
)
from integration.support import LI_WEI, Db, StoppedClock, ivr_call
from integration.twilio_api import TwilioStandIn
from ivr.app import logs
from ivr.app.bootstrap import Components
from ivr.phone.asterisk.agi_line import AgiLine
from ivr.phone.asterisk.routes import run_script
from ivr.phone.twilio.rest import TwilioAccount, TwilioRest
from ivr.services.outbox import OutboxSender

sqlite = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
NUMBER, PIN, PHONE = LI_WEI
SID = "AC" + "0" * 31 + "1"


def debug_everything(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """``IVR_LOG_LEVEL=DEBUG``, the root logger and every logger there is at DEBUG."""
    monkeypatch.setenv("IVR_LOG_LEVEL", "DEBUG")
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)


def reset_code(db: Db) -> str:
    """The code in the one queued SMS (before it is sent, its body still holds it)."""
    found = re.search(r"(?<!\d)\d{6}(?!\d)", db.one("sms_outbox")["body"])
    assert found is not None
    return found.group()


def send_outbox(hotline: Components) -> dict[int, str]:
    """The dispatcher's SMS round, through the real twilio Client to a local stand-in."""
    with TwilioStandIn() as api:
        rest = TwilioRest(TwilioAccount(SID, "test-auth-token", "+14155550100", None, api.url))
        sent = OutboxSender(hotline.unit_of_work, hotline.clock, rest.send_sms).send_queued()
        assert len(api.requests) == len(sent)
    return sent


@sqlite
def test_an_agi_call_that_hears_a_callback_code_logs_only_a_mask(
    hotline: Components,
    db: Db,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    debug_everything(caplog, monkeypatch)
    fake = FakeAsterisk(f"{TO_THE_QUEUE} 1 1")  # on hold: a callback, at my own number

    call(hotline, fake)

    code = hotline.contact_center.callback_code(db.one("callbacks")["id"])
    assert fake.commands.count(f'SAY DIGITS {code} ""') == 2  # the caller heard it...
    text = logged(caplog)
    assert text.count("AGI >> SAY DIGITS ******") == 2  # ...the trace shows where
    assert code not in text


@sqlite
def test_the_callback_greeting_over_agi_logs_no_code(
    hotline: Components,
    db: Db,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, callback_id, code = placed_callback(hotline, tmp_path, "call-9")
    debug_everything(caplog, monkeypatch)
    fake = answered_callback_call(callback_id)

    run_script(AgiLine(fake, fake), hotline, "agi")

    assert f'SAY DIGITS {code} ""' in fake.commands
    text = logged(caplog)
    assert "SAY DIGITS ******" in text and code not in text


@sqlite
def test_a_password_reset_over_agi_logs_neither_pin_nor_code(
    hotline: Components,
    db: Db,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    debug_everything(caplog, monkeypatch)

    call(hotline, FakeAsterisk(RESET))
    code = reset_code(db)
    assert send_outbox(hotline) == {db.one("sms_outbox")["id"]: "sent"}

    text = logged(caplog)
    assert "INSERT INTO sms_outbox" in text and "AGI << " in text  # the trace is there
    assert PIN not in text and code not in text
    assert code not in db.dump()


def test_a_password_reset_on_the_terminal_phone_logs_neither_pin_nor_code(
    seeded_env: str,
    db: Db,
    make_hotline: Callable[..., Components],
    clock: StoppedClock,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    debug_everything(caplog, monkeypatch)

    summary, _ = ivr_call(capsys, f"1 1 {NUMBER}# {PIN} 9", ani=PHONE)
    assert summary["outcome"] == "solved"
    code = reset_code(db)
    send_outbox(make_hotline(seeded_env, clock))

    text = logged(caplog)
    assert "INSERT INTO sms_outbox" in text
    assert PIN not in text and code not in text


def test_once_the_outbox_is_sent_no_row_holds_the_reset_code(
    seeded_env: str,
    db: Db,
    make_hotline: Callable[..., Components],
    clock: StoppedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ivr_call(capsys, f"1 1 {NUMBER}# {PIN} 9", ani=PHONE)
    code = reset_code(db)
    assert code in db.dump()  # queued: the body still holds it, to be sent

    send_outbox(make_hotline(seeded_env, clock))

    sms = db.one("sms_outbox")
    assert (sms["status"], sms["to"]) == ("sent", PHONE)
    assert sms["body"].startswith("[redacted] password-reset SMS, ")
    assert code not in db.dump()  # every text column of every table


# -- IVR_LOG_FORMAT=json: the same messages, one JSON object a line ------------------------


def scrubbed(text: str) -> str:
    """Log text without what could spell a PIN by chance (addresses, times, timings)."""
    text = re.sub(r"0x[0-9a-f]+", "0x...", text)
    text = re.sub(r"\d\d\d\d-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d)?", "TIME", text)
    return re.sub(r"\d+\.\d+s\b", "?s", text)


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Every logger at DEBUG, written by the handler ``IVR_LOG_FORMAT=json`` installs."""
    stream = io.StringIO()
    handler = logs.handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    monkeypatch.setattr(logging.getLogger("sqlalchemy"), "level", logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


@sqlite
def test_json_logs_of_an_agi_password_reset_name_the_call_and_hold_neither_pin_nor_code(
    hotline: Components, db: Db, json_logs: io.StringIO
) -> None:
    call(hotline, FakeAsterisk(RESET))
    code = reset_code(db)
    send_outbox(hotline)

    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in lines)
    agi = [entry for entry in lines if entry["logger"] == "ivr.phone.asterisk.agi_line"]
    assert agi and all(entry.get("call_id") == CALL_ID for entry in agi)
    assert any(entry["message"].startswith("INSERT INTO sms_outbox") for entry in lines)
    sent = [e for e in lines if e["logger"].startswith("ivr.services.outbox")]
    assert all("call_id" not in entry for entry in sent)  # no call being handled then
    text = scrubbed(json_logs.getvalue())
    assert PIN not in text and code not in text


@sqlite
def test_json_logs_of_twilio_webhooks_name_the_call_sid(
    hotline: Components, json_logs: io.StringIO
) -> None:
    # (test_twilio_voice imports this module's helpers: imported here, not at the top)
    from integration.phone.twilio.test_twilio_voice import BASE, TOKEN, Phone, twilio_client, walk

    hotline.settings = replace(
        hotline.settings, twilio_auth_token=TOKEN, public_url=BASE, secret_key="k" * 32
    )
    phone = Phone(twilio_client(hotline), "CA" + "7" * 32, PHONE)

    walk(phone, f"1 1 {NUMBER}# {PIN}")
    assert phone.send("/twilio/voice", token="forged").status_code == 403

    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    during = [entry for entry in lines if entry.get("call_id") == phone.sid]
    assert any(entry["message"].startswith("UPDATE twilio_calls") for entry in during)
    [refused] = [e for e in lines if e["message"].startswith("refused a Twilio webhook")]
    assert "call_id" not in refused  # refused before the CallSid is read
    assert PIN not in scrubbed(json_logs.getvalue())
