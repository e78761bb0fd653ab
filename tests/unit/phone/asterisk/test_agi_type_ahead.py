"""Type-ahead in the AGI driver, against the scripted Asterisk (``tests/agi_fake.py``) and the
real flow on fake stores: the announcements before a question take the keypad as escape
digits, and the key that stops one is the question's first key."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from agi_fake import FakeAsterisk
from fakes import Dialer

from ivr.audio.steps import PlayFile, Step
from ivr.flow import actions as act
from ivr.flow.engine import Engine
from ivr.flow.events import Digits
from ivr.phone.asterisk.agi_driver import AgiDriver
from ivr.phone.asterisk.agi_line import AgiLine
from ivr.phone.call_loop import play_flow
from ivr.phone.session import CallSession

KEYPAD = "0123456789*#"


def speak(prompt: act.Prompt) -> list[Step]:
    return [PlayFile(f"{prompt.language}/{prompt.id}")]


def drive(fake: FakeAsterisk, session: CallSession) -> AgiDriver:
    driver = AgiDriver(AgiLine(fake, fake), session.call.call_id)
    driver.speak = speak
    play_flow(driver, session, session.start())
    return driver


def test_a_key_during_the_welcome_answers_the_main_menu(hotline: Dialer) -> None:
    fake = FakeAsterisk("1 h")
    session = hotline.session(language="en")

    drive(fake, session)

    assert fake.commands[:3] == [
        f"STREAM FILE en/welcome {KEYPAD}",  # stopped by the 1 ...
        'SET VARIABLE IVR_REASON "password_reset"',  # ... which chose the first branch
        f"STREAM FILE en/reset_intro {KEYPAD}",
    ]
    assert not fake.sent("STREAM FILE en/main_menu")
    assert session.state is not None and "reset_intro" in session.state.path


def test_a_node_without_type_ahead_hears_its_announcements_whole(hotline: Dialer) -> None:
    flow = hotline.engine.flow
    menu = replace(flow.nodes["main_menu"], type_ahead=False)
    engine = Engine(replace(flow, nodes={**flow.nodes, "main_menu": menu}))
    fake = FakeAsterisk("1 h")
    session = Dialer(engine, hotline.use_cases, hotline.clock).session(language="en")

    drive(fake, session)

    assert fake.commands[:4] == [
        'STREAM FILE en/welcome ""',  # not interruptible: the key waits for the question
        f"STREAM FILE en/main_menu {KEYPAD}",
        'SET VARIABLE IVR_REASON "password_reset"',
        f"STREAM FILE en/reset_intro {KEYPAD}",
    ]


def test_a_key_typed_ahead_into_a_secure_gather_is_never_logged(
    hotline: Dialer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakeAsterisk("7 531")
    notice = act.Play((act.Prompt("verify_retry", "en", "That did not match."),))
    ask = act.Gather("ask_pin", (act.Prompt("enter_pin", "en", "Your PIN?"),), 4, 4, 8.0,
                     secure=True)  # fmt: skip
    driver = AgiDriver(AgiLine(fake, fake), "call-1")
    driver.speak = speak

    answer = driver.perform([notice, ask], "ask_pin")

    assert answer == Digits("7531")
    assert fake.commands == [f"STREAM FILE en/verify_retry {KEYPAD}"] + ["WAIT FOR DIGIT 8000"] * 3
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "AGI >> STREAM FILE en/verify_retry" in text  # commands are logged ...
    assert "result=55" not in text and "7531" not in text  # ... but no reply holding a key
