"""The wait for a person over AGI (``ivr.phone.holding``) with the scripted Asterisk of
``tests/agi_fake.py`` and the real contact center on SQLite; and the dispatcher writing
callback call files into a spool folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from agi_fake import FakeAsterisk, Interference, environment

from integration.phone.asterisk.test_agi_driver import CALL_ID, call
from integration.support import Db, sign_in_busy
from ivr.app.bootstrap import Components
from ivr.app.dispatcher import Dispatcher
from ivr.phone.asterisk.agi_line import AgiLine
from ivr.phone.asterisk.call_files import CallbackSettings
from ivr.phone.asterisk.channel import CallFileDialer
from ivr.phone.asterisk.routes import run_script
from ivr.services.contact_entries import WaitingCall

sqlite = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
#: Silence to the main menu's retry limit: the general queue (open hours), then the keys.
TO_THE_QUEUE = "t t  t t t"


@sqlite
def test_1_on_hold_arranges_a_callback_and_reads_the_code_twice(
    hotline: Components, db: Db
) -> None:
    sign_in_busy(db)  # someone is signed in: the caller is held in line
    fake = FakeAsterisk(f"{TO_THE_QUEUE} 1 1")  # 1 at the offer, 1: the caller's own number

    call(hotline, fake)

    assert "STREAM FILE en/queue_callback_offer 1" in fake.commands
    assert "STREAM FILE en/callback_number_choice.1 0123456789*#" in fake.commands
    said = [c for c in fake.commands if c.startswith("SAY DIGITS ")]
    codes = [m.group(1) for c in said if (m := re.fullmatch(r'SAY DIGITS (\d{6}) ""', c))]
    assert len(codes) == 2 and codes[0] == codes[1], said  # the same code, twice
    assert fake.commands[-3:] == [
        'STREAM FILE en/callback_scheduled ""',
        'SET VARIABLE IVR_OUTCOME "callback"',
        "HANGUP",
    ]
    callback = db.one("callbacks")
    assert callback["number"] == "+8613800138001" and callback["state"] == "waiting"
    entry = db.one("queue_entries", call_id=CALL_ID)
    assert (entry["kind"], entry["state"]) == ("callback", "waiting")


@sqlite
def test_no_number_typed_is_no_callback_and_the_wait_goes_on(hotline: Components, db: Db) -> None:
    sign_in_busy(db)  # someone is signed in: the caller is held in line
    # 1 at the offer, 2 (another number), then silence at both tries to type one.
    fake = FakeAsterisk(f"{TO_THE_QUEUE} 1 2 t t")

    call(hotline, fake)

    assert fake.commands.count("STREAM FILE en/callback_enter_number 0123456789*#") == 2
    unavailable = fake.commands.index('STREAM FILE en/callback_unavailable ""')
    assert fake.commands[unavailable + 1].startswith("STREAM FILE moh/hold-")  # back on hold
    assert db.count("callbacks") == 0
    assert db.one("queue_entries", call_id=CALL_ID)["state"] == "abandoned"  # hung up later


@sqlite
@pytest.mark.parametrize("style", ["fastagi", "process", "eof"])
def test_a_hang_up_in_the_callback_dialogue_is_an_abandoned_wait(
    hotline: Components, db: Db, style: str, caplog: pytest.LogCaptureFixture
) -> None:
    sign_in_busy(db)
    fake = FakeAsterisk(f"{TO_THE_QUEUE} 1 h", hangup=style)  # gone at the number choice

    call(hotline, fake)

    assert "STREAM FILE en/callback_number_choice.1 0123456789*#" in fake.commands
    assert not any(r.exc_info for r in caplog.records), "a hang-up is not an error"
    assert db.count("callbacks") == 0
    assert db.one("queue_entries", call_id=CALL_ID)["state"] == "abandoned"


@sqlite
def test_a_database_error_mid_wait_apologises_and_hands_back_to_the_dialplan(
    hotline: Components, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(entry_id: int) -> None:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(hotline.contact_center, "place", broken)
    fake = FakeAsterisk(TO_THE_QUEUE)

    call(hotline, fake)

    assert fake.commands[-2:] == [
        'STREAM FILE en/system_error ""',
        'SET VARIABLE IVR_OUTCOME "fallback"',  # the dialplan's safe route, no 2nd apology
    ]


@sqlite
def test_the_dispatcher_dials_a_due_callback_once(
    hotline: Components, db: Db, tmp_path: Path
) -> None:
    center = hotline.contact_center
    entry = center.enqueue(
        WaitingCall("call-1", "general", 1, "general", "en", "5551234", None, "security", ())
    )
    callback, _code = center.request_callback(entry.id, "5551234")
    alice = next(a for a in center.agents_view() if a.username == "alice")
    center.set_availability(alice.id, True)
    spool = tmp_path / "outgoing"
    spool.mkdir()
    dispatcher = Dispatcher(lambda: center, CallFileDialer(CallbackSettings(spool=spool)))

    written = dispatcher.run_once()

    assert written == [str(spool / f"ivr-callback-{callback.id}-1.call")]
    text = Path(written[0]).read_text()
    assert "Channel: PJSIP/5551234@hotline-callbacks\n" in text
    assert f"Setvar: IVR_CALLBACK={callback.id}\n" in text
    assert dispatcher.run_once() == []  # claimed once: never dialled twice
    assert db.one("callbacks", id=callback.id)["state"] == "dialing"


@sqlite
def test_a_call_file_that_cannot_be_written_is_a_failed_attempt(
    hotline: Components, db: Db, tmp_path: Path
) -> None:
    center = hotline.contact_center
    entry = center.enqueue(
        WaitingCall("call-2", "general", 1, "general", "en", "5551234", None, None, ())
    )
    callback, _code = center.request_callback(entry.id, "5551234")
    alice = next(a for a in center.agents_view() if a.username == "alice")
    center.set_availability(alice.id, True)
    dispatcher = Dispatcher(
        lambda: center, CallFileDialer(CallbackSettings(spool=tmp_path / "missing"))
    )

    assert dispatcher.run_once() == []

    row = db.one("callbacks", id=callback.id)
    assert (row["state"], row["attempts"]) == ("waiting", 1)  # retried later


@sqlite
def test_the_callback_script_greets_with_the_code_and_connects_the_agent(
    hotline: Components, db: Db, tmp_path: Path
) -> None:
    entry_id, callback_id, code = placed_callback(hotline, tmp_path, "call-3")
    fake = answered_callback_call(callback_id)

    run_script(AgiLine(fake, fake), hotline, "agi")

    spoken = [c for c in fake.commands if c.startswith(("STREAM FILE", "SAY DIGITS"))]
    assert spoken[:6] == [
        'STREAM FILE en/callback_greeting ""',
        'STREAM FILE en/callback_about_security ""',
        'STREAM FILE en/callback_code_said.1 ""',
        f'SAY DIGITS {code} ""',
        'STREAM FILE en/callback_code_said.1 ""',
        f'SAY DIGITS {code} ""',
    ], spoken
    assert f'EXEC Dial "PJSIP/agent-alice,20,gU(hotline-answered^{entry_id})"' in fake.commands
    assert fake.commands[-2:] == ['SET VARIABLE IVR_OUTCOME "agent"', "HANGUP"]
    assert db.one("callbacks", id=callback_id)["state"] == "done"
    assert db.one("queue_entries", id=entry_id)["state"] == "done"


def placed_callback(hotline: Components, tmp_path: Path, call_id: str) -> tuple[int, int, str]:
    """A security caller who took a callback, alice available, and the dispatcher's call
    file written: (queue entry id, callback id, the code the customer heard)."""
    center = hotline.contact_center
    entry = center.enqueue(
        WaitingCall(call_id, "general", 1, "general", "en", "5551234", None, "security", ())
    )
    callback, code = center.request_callback(entry.id, "5551234")
    alice = next(a for a in center.agents_view() if a.username == "alice")
    center.set_availability(alice.id, True)
    spool = tmp_path / "outgoing"
    spool.mkdir()
    Dispatcher(lambda: center, CallFileDialer(CallbackSettings(spool=spool))).run_once()
    return entry.id, callback.id, code


def answered_callback_call(callback_id: int) -> FakeAsterisk:
    """Asterisk running the callback script for ``callback_id``; alice picks up when rung
    (Dial returns after the talk, DIALSTATUS=ANSWER)."""
    answered = [
        Interference("EXEC Dial", ["200 result=0"]),
        Interference("GET VARIABLE DIALSTATUS", ["200 result=1 (ANSWER)"]),
    ]
    env = environment(agi_arg_1="callback", agi_arg_2=f"id={callback_id}")
    return FakeAsterisk("", hangup="process", env=env, interfere=answered)
