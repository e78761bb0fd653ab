"""Queue policy callers expect, end to end over both drivers on SQLite and PostgreSQL: with
nobody signed in who has the skill and the language, the caller hears so and gets the
callback offer (or the named node) at once; the maximum wait; the estimate from the agents
actually staffed. AGI with the scripted Asterisk of ``tests/agi_fake.py``, Twilio with
signed webhooks (``test_twilio_voice.Phone``)."""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from agi_fake import FakeAsterisk
from flask.testing import FlaskClient

from integration.phone.asterisk.test_agi_driver import CALL_ID, call
from integration.phone.twilio.test_twilio_voice import BASE, TOKEN, Phone, twilio_client, walk
from integration.support import EMMA, FLOW_PATH, ROOT, Db, StoppedClock, sign_in_busy
from ivr.app.bootstrap import Components, load_hotline
from ivr.flow.prompts import Catalog
from ivr.services.contact_entries import WaitingCall
from ivr.services.contact_snapshots import Place

#: Silence to the main menu's retry limit: the general queue (open hours).
TO_THE_QUEUE = "t t  t t t"
#: The same in Chinese (2 at the language menu).
TO_THE_QUEUE_ZH = "2  t t t"


def codes_said(fake: FakeAsterisk) -> list[str]:
    said = [c for c in fake.commands if c.startswith("SAY DIGITS ")]
    return [m.group(1) for c in said if (m := re.fullmatch(r'SAY DIGITS (\d{6}) ""', c))]


def policy_flow(tmp_path: Path, general: str) -> Path:
    """A copy of the hotline's flow whose general queue has ``general`` added."""
    text = (ROOT / "callflows.yaml").read_text(encoding="utf-8")
    old = "general:  {priority: 1, skill: general,"
    assert text.count(old) == 1
    flow = tmp_path / "callflows.yaml"
    flow.write_text(text.replace(old, f"{old} {general},"), encoding="utf-8")
    (tmp_path / "prompts").symlink_to(ROOT / "prompts")
    return flow


def with_flow(hotline: Components, flow: Path) -> Components:
    assert "flow" not in hotline.__dict__, "the flow must not be loaded yet"
    hotline.settings = replace(hotline.settings, flow_path=flow)
    return hotline


def moving_clock(hotline: Components, clock: StoppedClock, minutes: float) -> None:
    """Each hold tick (``place``) moves the clock on by ``minutes``."""
    center = hotline.contact_center
    place = center.place

    def later(entry_id: int) -> Place:
        clock.advance(minutes=minutes)
        return place(entry_id)

    center.place = later  # type: ignore[method-assign]


def one_tick(hotline: Components) -> None:
    """The queue fails at the second tick: the wait ends there (with the apology)."""
    center = hotline.contact_center
    place = center.place
    calls: list[int] = []

    def once(entry_id: int) -> Place:
        calls.append(entry_id)
        if len(calls) > 1:
            raise ConnectionError("enough: one tick was heard")
        return place(entry_id)

    center.place = once  # type: ignore[method-assign]


# -- AGI ------------------------------------------------------------------------------------


def test_agi_nobody_signed_in_hears_so_and_the_callback_offer_at_once(
    hotline: Components, db: Db
) -> None:
    fake = FakeAsterisk(f"{TO_THE_QUEUE} 1")  # 1: the caller's own number

    call(hotline, fake)

    nobody = fake.commands.index('STREAM FILE en/queue_no_agents ""')
    assert fake.commands[nobody + 1] == "STREAM FILE en/callback_number_choice.1 0123456789*#"
    assert not any("queue_position" in c for c in fake.commands)  # no "number 1" for nobody
    assert not any(c.startswith("STREAM FILE moh/") for c in fake.commands)  # no silence held
    codes = codes_said(fake)
    assert len(codes) == 2 and codes[0] == codes[1]  # the code, twice
    assert fake.commands[-2:] == ['SET VARIABLE IVR_OUTCOME "callback"', "HANGUP"]
    assert db.one("callbacks")["number"] == "+8613800138001"


def test_agi_nobody_signed_in_and_no_callback_ends_the_call_politely(
    hotline: Components, db: Db
) -> None:
    fake = FakeAsterisk(f"{TO_THE_QUEUE} t t")  # silence at both tries of the offer

    call(hotline, fake)

    assert fake.commands.count("STREAM FILE en/callback_number_choice.1 0123456789*#") == 2
    assert fake.commands[-4:] == [
        'STREAM FILE en/callback_not_arranged ""',  # not "stay on the line": goodbye
        'STREAM FILE en/queue_call_later ""',
        'SET VARIABLE IVR_OUTCOME "no_agents"',
        "HANGUP",
    ]
    assert db.one("queue_entries", call_id=CALL_ID)["state"] == "abandoned"  # it ended
    assert db.count("callbacks") == 0


def test_agi_an_agent_without_the_callers_language_does_not_count(
    hotline: Components, db: Db
) -> None:
    sign_in_busy(db, "bob")  # general, but English only
    fake = FakeAsterisk(TO_THE_QUEUE_ZH)  # then hangs up at the first question

    call(hotline, fake)

    assert 'STREAM FILE zh/queue_no_agents ""' in fake.commands
    assert not any("queue_position" in c for c in fake.commands)


def test_agi_max_wait_reached_offers_the_callback(
    hotline: Components, db: Db, clock: StoppedClock
) -> None:
    sign_in_busy(db)
    moving_clock(hotline, clock, minutes=6)  # the general queue's max_wait is 15m
    fake = FakeAsterisk(f"{TO_THE_QUEUE} t 1")  # quiet on hold; 1 at the second offer

    call(hotline, fake)

    said = fake.commands.index('STREAM FILE en/queue_max_wait ""')
    held = [c for c in fake.commands[:said] if c.startswith("STREAM FILE en/queue_position.1")]
    assert len(held) == 3  # said at each tick: announce_every 3m, the clock 6m on per tick
    assert fake.commands[said + 1] == "STREAM FILE en/callback_number_choice.1 0123456789*#"
    assert fake.commands[-2:] == ['SET VARIABLE IVR_OUTCOME "callback"', "HANGUP"]
    assert len(codes_said(fake)) == 2


def test_agi_max_wait_sends_the_caller_to_the_named_node(
    hotline: Components, db: Db, clock: StoppedClock, tmp_path: Path
) -> None:
    with_flow(hotline, policy_flow(tmp_path, "on_max_wait: goodbye_unsolved"))
    sign_in_busy(db)
    moving_clock(hotline, clock, minutes=6)
    fake = FakeAsterisk(f"{TO_THE_QUEUE} t")

    call(hotline, fake)

    said = fake.commands.index('STREAM FILE en/queue_max_wait ""')
    assert fake.commands[said + 1 :] == [
        'STREAM FILE en/goodbye ""',
        'SET VARIABLE IVR_OUTCOME "unsolved"',
        "HANGUP",
    ]
    assert db.one("queue_entries", call_id=CALL_ID)["state"] == "abandoned"


def test_agi_nobody_signed_in_sends_the_caller_to_the_named_node(
    hotline: Components, db: Db, tmp_path: Path
) -> None:
    with_flow(hotline, policy_flow(tmp_path, "when_no_agents: goodbye_unsolved"))
    fake = FakeAsterisk(TO_THE_QUEUE)

    call(hotline, fake)

    nobody = fake.commands.index('STREAM FILE en/queue_no_agents ""')
    assert fake.commands[nobody + 1 :] == [
        'STREAM FILE en/goodbye ""',
        'SET VARIABLE IVR_OUTCOME "unsolved"',
        "HANGUP",
    ]
    assert db.one("queue_entries", call_id=CALL_ID)["state"] == "abandoned"


# -- the estimate -----------------------------------------------------------------------------


def test_the_estimate_counts_the_agents_staffed_with_the_skill_and_language(
    hotline: Components, db: Db
) -> None:
    center = hotline.contact_center
    entry = center.enqueue(
        WaitingCall("call-est", "security", 10, "security", "zh", "5551234", None, None, ())
    )
    nobody = center.place(entry.id)
    assert nobody.staffed == 0
    sign_in_busy(db, "bob")  # security, English only: does not count for a Chinese caller
    assert center.place(entry.id).staffed == 0
    sign_in_busy(db, "chen")  # security, Chinese
    one = center.place(entry.id)
    sign_in_busy(db, "sam")  # every skill and language
    two = center.place(entry.id)
    assert (one.staffed, two.staffed) == (1, 2)
    assert (one.estimate_seconds, two.estimate_seconds) == (180, 90)  # default handle time


@pytest.mark.parametrize(("staffed", "minutes"), [(["sam"], "3"), (["sam", "chen"], "2")])
def test_agi_the_caller_hears_the_estimate_of_the_agents_staffed(
    hotline: Components, db: Db, staffed: list[str], minutes: str
) -> None:
    for name in staffed:
        sign_in_busy(db, name)
    one_tick(hotline)
    fake = FakeAsterisk(TO_THE_QUEUE)

    call(hotline, fake)

    estimate = fake.commands.index('STREAM FILE en/queue_estimate.1 ""')
    assert fake.commands[estimate + 1] == f'SAY NUMBER {minutes} ""'  # 180 s / staffed


# -- Twilio -----------------------------------------------------------------------------------


@pytest.fixture
def twilio(hotline: Components) -> Components:
    hotline.settings = replace(
        hotline.settings, twilio_auth_token=TOKEN, public_url=BASE, secret_key="k" * 32
    )
    return hotline


def client_for(hotline: Components) -> FlaskClient:
    return twilio_client(hotline)


#: A prompt played from its rendered file (``ivr prompts build``, which the end-to-end tier
#: may have run in this checkout meanwhile) rather than spoken from its text.
RENDERED = re.compile(r"/twilio/audio/(?P<language>[a-z]+)/(?P<prompt>\w+)\.wav$")


@functools.cache
def catalog() -> Catalog:
    return load_hotline(FLOW_PATH).catalog


def said(reply: ET.Element) -> str:
    """What the caller hears, in words: a rendered prompt counts as its text."""
    words = []
    for element in reply.iter():
        text = element.text or ""
        rendered = RENDERED.search(text) if element.tag == "Play" else None
        if rendered:
            text = catalog().text(rendered["prompt"], rendered["language"]) or text
        if element.tag in ("Say", "Play"):
            words.append(text)
    return " ".join(words)


def to_the_security_queue(client: FlaskClient, sid: str) -> tuple[Phone, ET.Element]:
    number, pin, phone_number = EMMA
    phone = Phone(client, sid, phone_number)
    return phone, phone.follow(walk(phone, f"1 4 {number} {pin}"))  # the first tick


def test_twilio_nobody_signed_in_hears_so_and_the_callback_offer_at_once(
    twilio: Components, db: Db
) -> None:
    phone, reply = to_the_security_queue(client_for(twilio), "CA-nobody-here")

    assert "no agent who can help" in said(reply)
    assert "number ending in" in said(reply)  # the offer, at once
    assert "in line" not in said(reply)  # no "number 1" for nobody
    told = phone.press(reply, "1")  # the caller's own number
    assert told[-1].tag == "Hangup"
    assert said(told).count("reference code is") == 2  # the code, read twice
    assert db.one("callbacks")["number"] == EMMA[2]


def test_twilio_nobody_signed_in_and_no_callback_ends_the_call(twilio: Components, db: Db) -> None:
    phone, reply = to_the_security_queue(client_for(twilio), "CA-nobody-ends")
    for _ in range(2):  # silence at both tries
        gather = reply.find("Gather")
        assert gather is not None, ET.tostring(reply)
        reply = phone.follow(reply)  # the timeout redirect
    assert "couldn't arrange a callback" in said(reply)
    reply = phone.follow(reply)  # back to the wait: nobody is still there
    assert "call again later" in said(reply) and reply[-1].tag == "Hangup"
    assert db.one("queue_entries", call_id=phone.sid)["state"] == "abandoned"


def test_twilio_max_wait_reached_offers_the_callback(
    twilio: Components, db: Db, clock: StoppedClock
) -> None:
    sign_in_busy(db)
    phone, reply = to_the_security_queue(client_for(twilio), "CA-max-wait")
    assert "in line" in said(reply)  # someone is signed in: held
    for _ in range(5):  # the security queue's max_wait is 10m
        if "waited so long" in said(reply):
            break
        clock.advance(minutes=4)
        reply = phone.follow(reply)
    assert "waited so long" in said(reply) and "number ending in" in said(reply)
    told = phone.press(reply, "1")
    assert told[-1].tag == "Hangup" and db.count("callbacks") == 1


def test_twilio_nobody_signed_in_goes_on_in_the_flow_at_the_named_node(
    twilio: Components, db: Db, tmp_path: Path
) -> None:
    with_flow(twilio, policy_flow(tmp_path, "when_no_agents: goodbye_unsolved"))
    phone = Phone(client_for(twilio), "CA-nobody-node", EMMA[2])
    reply = phone.follow(walk(phone, "1 0"))  # English; main menu 0: the general queue (open hours)

    assert "no agent who can help" in said(reply)
    assert "Goodbye" in said(reply) and reply[-1].tag == "Hangup"  # the flow's goodbye
    assert db.one("queue_entries", call_id=phone.sid)["state"] == "abandoned"
