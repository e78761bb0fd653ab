"""Issue 6's "Done when" for the voice webhooks: calls walked through signed Twilio
requests (signed with the twilio package's own validator logic) against a real seeded
database, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Blueprint
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from integration.app.test_secret_logs import debug_everything
from integration.phone.asterisk.test_agi_driver import logged
from integration.support import EMMA, LI_WEI, OMAR, Db, sign_in_busy
from integration.twilio_api import TwilioStandIn
from ivr.app.bootstrap import Components
from ivr.app.channels import twilio_calls
from ivr.app.dispatcher import Dispatcher
from ivr.phone.twilio import webhooks as twilio_hooks
from ivr.phone.twilio.channel import TwilioDialer
from ivr.phone.twilio.rest import TwilioAccount, TwilioRest
from ivr.phone.twilio.settings import TwilioSettings
from ivr.services.outbox import OutboxSender
from ivr.web import create_app

TOKEN = "test-auth-token"
BASE = "https://ivr.example.com"
HOTLINE = "+14155550100"


def twilio_webhooks(hotline: Components) -> Blueprint:
    """The Twilio webhooks, as the composition root builds them for ``hotline``."""
    settings = TwilioSettings.of(hotline.settings)
    return twilio_hooks.make_blueprint(hotline, settings, twilio_calls(hotline))


def twilio_client(hotline: Components) -> FlaskClient:
    """A test client of the web app with the Twilio webhooks, mounted as ``ivr serve``
    mounts them."""
    app = create_app(
        hotline, {"TESTING": True, "SECRET_KEY": "x"}, blueprints=(twilio_webhooks(hotline),)
    )
    return app.test_client()


class Phone:
    """Twilio, as far as the hotline can tell: signed webhooks for one call."""

    def __init__(self, client: FlaskClient, sid: str, caller: str) -> None:
        self.client, self.sid, self.caller = client, sid, caller

    def post(self, url: str, token: str | None = TOKEN, **form: str) -> ET.Element:
        response = self.send(url, token, **form)
        assert response.status_code == 200, response.text
        return ET.fromstring(response.data)

    def send(self, url: str, token: str | None = TOKEN, **form: str):  # type: ignore[no-untyped-def]
        if not url.startswith("http"):
            url = BASE + url
        params = {"CallSid": self.sid, "From": self.caller, "To": "+8610000000", **form}
        headers = {}
        if token is not None:
            headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(url, params)
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return self.client.post(path, data=params, headers=headers)

    def start(self) -> ET.Element:
        return self.post("/twilio/voice")

    def press(self, reply: ET.Element, keys: str) -> ET.Element:
        gather = reply.find("Gather")
        assert gather is not None, ET.tostring(reply)
        return self.post(gather.attrib["action"], Digits=keys)

    def follow(self, reply: ET.Element) -> ET.Element:
        redirect = reply.find("Redirect")
        assert redirect is not None, ET.tostring(reply)
        return self.post(redirect.text or "")


@pytest.fixture
def line(hotline: Components) -> Components:
    hotline.settings = replace(
        hotline.settings, twilio_auth_token=TOKEN, public_url=BASE, secret_key="k" * 32
    )
    return hotline


@pytest.fixture(autouse=True)
def someone_signed_in(db: Db) -> None:
    """Someone who could take a call is signed in, busy: callers are held in line
    (``test_queue_policy.py`` has the calls with nobody signed in)."""
    sign_in_busy(db)


@pytest.fixture
def client(line: Components) -> FlaskClient:
    return twilio_client(line)


def walk(phone: Phone, keys: str) -> ET.Element:
    reply = phone.start()
    for key in keys.split():
        reply = phone.press(reply, key.rstrip("#"))
    return reply


def said(reply: ET.Element) -> str:
    return " ".join((e.text or "") for e in reply.iter() if e.tag in ("Say", "Play"))


def test_a_key_pressed_during_the_welcome_chooses_from_the_main_menu(
    client: FlaskClient, db: Db
) -> None:
    phone = Phone(client, "CA-type-ahead", OMAR[2])
    menu = phone.press(phone.start(), "1")  # English

    gather = menu.find("Gather")
    assert gather is not None and gather.attrib["numDigits"] == "1"
    heard = [e.text or "" for e in gather]  # the rendered file when there is one, else text
    assert len(heard) == 2, heard
    assert heard[0].endswith("/en/welcome.wav") or heard[0].startswith("Welcome to wallet")
    assert heard[1].endswith("/en/main_menu.wav") or heard[1].startswith("Press 1 to reset")
    assert [e.tag for e in menu] == ["Gather", "Redirect"]  # nothing played outside it

    branch = phone.press(menu, "1")  # Twilio posts the key pressed during the welcome

    opening = said(branch)
    assert "/en/reset_intro.wav" in opening or opening.startswith("Sure, let's get your password")
    assert phone.send("/twilio/status", CallStatus="completed").status_code == 204
    record = db.one("call_records", call_id=phone.sid)
    assert record["reason"] == "password_reset"
    assert "main_menu" in record["path"] and "reset_intro" in record["path"]


@pytest.mark.parametrize(
    ("who", "keys", "outcome", "reason"),
    [
        (OMAR, "1 1 {n} {p} 9", "solved", "password_reset"),
        (LI_WEI, "1 2 {n} {p} 9", "solved", "payment_failure"),
        (OMAR, "1 3 {n} {p} 9", "unsolved", "account_closure"),
        (EMMA, "1 4 {n} {p}", "queued", "security"),
    ],
    ids=["reset", "payment", "closure", "security"],
)
def test_each_branch_over_signed_webhooks(
    client: FlaskClient, db: Db, who: tuple[str, str, str], keys: str, outcome: str, reason: str
) -> None:
    number, pin, phone_number = who
    phone = Phone(client, f"CA-{reason}", phone_number)
    reply = walk(phone, keys.format(n=number, p=pin))
    record = db.one("call_records", call_id=phone.sid)
    if outcome == "queued":  # held: the record stays open until the call ends
        assert (record["outcome"], record["queue"], record["last_node"]) == (
            None, "security", "security_queue",
        )  # fmt: skip
        assert phone.send("/twilio/status", CallStatus="completed").status_code == 204
        record = db.one("call_records", call_id=phone.sid)
    assert (record["channel"], record["outcome"], record["reason"]) == ("twilio", outcome, reason)
    assert record["account_number"] == number
    if outcome == "queued":
        assert reply.find("Redirect") is not None
        assert "/twilio/wait" in (reply.find("Redirect").text or "")  # type: ignore[union-attr]
    else:
        assert reply[-1].tag == "Hangup"
    assert pin not in db.dump()


def test_a_call_goes_on_when_its_process_is_replaced_between_two_webhooks(
    line: Components, make_hotline: Callable[..., Components], seeded_url: str, db: Db
) -> None:
    """A crash between two webhooks loses nothing: the next webhook, served by a fresh
    process (its own components and app, nothing in memory), goes on with the call."""
    number, pin, phone_number = LI_WEI
    before = Phone(twilio_client(line), "CA-crash", phone_number)
    menu = before.press(before.start(), "1")  # English: the main menu
    line.database.dispose()  # the process dies: nothing of it serves the call again

    fresh = make_hotline(seeded_url)
    fresh.settings = replace(
        fresh.settings, twilio_auth_token=TOKEN, public_url=BASE, secret_key="k" * 32
    )
    after = Phone(twilio_client(fresh), before.sid, phone_number)
    ask = after.press(menu, "2")  # payments: the account number
    assert int(ask.find("Gather").attrib["numDigits"]) >= 8  # type: ignore[union-attr]
    reply = after.press(after.press(after.press(ask, number), pin), "9")

    assert reply[-1].tag == "Hangup"
    record = db.one("call_records", call_id=before.sid)
    assert (record["outcome"], record["reason"]) == ("solved", "payment_failure")
    assert record["path"][:3] == ["choose_language", "welcome", "main_menu"]
    assert db.one("twilio_calls", call_sid=before.sid)["step"] == 5


def test_a_gather_has_the_flows_timeout_digits_and_finish_key(client: FlaskClient) -> None:
    phone = Phone(client, "CA-gather", LI_WEI[2])
    reply = phone.press(phone.press(phone.start(), "1"), "2")
    gather = reply.find("Gather")
    assert gather is not None
    assert gather.attrib["input"] == "dtmf" and gather.attrib["finishOnKey"] == "#"
    assert int(gather.attrib["timeout"]) > 0 and int(gather.attrib["numDigits"]) >= 8
    redirect = reply.find("Redirect")
    assert redirect is not None and "timeout=1" in (redirect.text or "")


def test_a_replayed_gather_is_applied_once(client: FlaskClient, db: Db) -> None:
    number, _, phone_number = LI_WEI
    phone = Phone(client, "CA-replay", phone_number)
    reply = phone.press(phone.press(phone.start(), "1"), "2")
    action = reply.find("Gather").attrib["action"]  # type: ignore[union-attr]
    first = phone.post(action, Digits=number)
    before = db.dump()
    again = phone.post(action, Digits=number)
    assert ET.tostring(first) == ET.tostring(again)
    assert db.dump() == before
    row = db.one("twilio_calls", call_sid=phone.sid)
    assert "975312" not in str(row["memo"])


def test_forged_and_unsigned_requests_are_refused_and_change_nothing(
    client: FlaskClient, db: Db
) -> None:
    phone = Phone(client, "CA-forged", LI_WEI[2])
    before = db.dump()
    assert phone.send("/twilio/voice", token=None).status_code == 403
    assert phone.send("/twilio/voice", token="not-the-token").status_code == 403
    assert db.dump() == before
    reply = phone.start()
    before = db.dump()
    action = reply.find("Gather").attrib["action"]  # type: ignore[union-attr]
    assert phone.send(action, token="not-the-token", Digits="1").status_code == 403
    assert phone.send(action, token=None, Digits="1").status_code == 403
    assert db.dump() == before


def test_no_token_configured_refuses_everything(line: Components, db: Db) -> None:
    line.settings = replace(line.settings, twilio_auth_token=None)
    client = twilio_client(line)
    before = db.dump()
    assert Phone(client, "CA-open", EMMA[2]).send("/twilio/voice").status_code == 403
    assert db.dump() == before


def test_an_unknown_call_on_a_gather_ends_politely(client: FlaskClient) -> None:
    reply = Phone(client, "CA-nobody", EMMA[2]).post("/twilio/gather?step=3", Digits="1")
    assert [e.tag for e in reply] == ["Say", "Hangup"]


def test_a_call_whose_state_is_gone_mid_call_ends_politely_not_with_an_error(
    client: FlaskClient, db: Db
) -> None:
    phone = Phone(client, "CA-outage", EMMA[2])
    menu = phone.start()
    db.execute("ALTER TABLE twilio_calls RENAME TO twilio_calls_away")  # the database fails
    try:
        response = phone.send(menu.find("Gather").attrib["action"], Digits="1")  # type: ignore[union-attr]
        other = Phone(client, "CA-outage-new", OMAR[2]).send("/twilio/voice")
    finally:
        db.execute("ALTER TABLE twilio_calls_away RENAME TO twilio_calls")
    for reply in (response, other):
        assert reply.status_code == 200 and reply.mimetype == "application/xml"
        assert [e.tag for e in ET.fromstring(reply.data)] == ["Say", "Hangup"]


def queued(client: FlaskClient, sid: str) -> tuple[Phone, ET.Element]:
    number, pin, phone_number = EMMA
    phone = Phone(client, sid, phone_number)
    return phone, phone.follow(walk(phone, f"1 4 {number} {pin}"))


def test_a_waiting_caller_is_dialled_to_an_agent(
    line: Components, client: FlaskClient, db: Db
) -> None:
    phone, reply = queued(client, "CA-agent")
    assert "/twilio/wait" in (reply.find("Redirect").text or "")  # type: ignore[union-attr]
    agents = db.rows("agents")
    center = line.contact_center
    for agent in agents:
        center.set_availability(agent["id"], True)
    reply = phone.follow(reply)
    dial = reply.find("Dial")
    assert dial is not None, ET.tostring(reply)
    client_el = dial.find("Client")
    assert client_el is not None and client_el.text in {a["username"] for a in agents}
    entry = db.one("queue_entries", call_id=phone.sid)
    assert entry["state"] == "offered"
    phone.post(client_el.attrib["url"], CallStatus="in-progress")
    assert db.one("queue_entries", call_id=phone.sid)["state"] == "connected"
    end = phone.post(dial.attrib["action"], DialCallStatus="completed")
    assert end[-1].tag == "Hangup"
    assert db.one("queue_entries", call_id=phone.sid)["state"] == "done"


def test_a_callback_is_arranged_and_its_code_said_only(
    line: Components, client: FlaskClient, db: Db
) -> None:
    line.settings = replace(line.settings, callback_offer_after=0)
    phone, reply = queued(client, "CA-callback")
    reply = phone.follow(reply)
    gather = reply.find("Gather")
    assert gather is not None and gather.attrib["numDigits"] == "1", ET.tostring(reply)
    reply = phone.post(gather.attrib["action"], Digits="1")  # a callback, please
    reply = phone.press(reply, "1")  # at the number I am calling from
    assert reply[-1].tag == "Hangup"
    callback = db.one("callbacks")
    assert callback["number"] == EMMA[2]
    code = line.contact_center.callback_code(callback["id"])
    assert said(reply).count(" ".join(code)) == 2
    assert code not in db.dump()


@pytest.mark.parametrize("final", ["completed", "no-answer", "busy", "failed", "canceled"])
def test_the_status_callback_closes_a_call_that_hung_up(
    client: FlaskClient, db: Db, final: str
) -> None:
    phone = Phone(client, "CA-gone", LI_WEI[2])
    phone.press(phone.start(), "1")
    assert phone.send("/twilio/status", CallStatus="ringing").status_code == 204
    assert db.one("call_records")["outcome"] is None  # not final: still open
    assert phone.send("/twilio/status", CallStatus=final).status_code == 204
    record = db.one("call_records", call_id=phone.sid)
    assert (record["outcome"], record["channel"]) == ("abandoned", "twilio")
    assert phone.send("/twilio/status", CallStatus=final).status_code == 204  # Twilio retries
    assert db.count("call_records") == 1


def test_a_caller_hanging_up_in_the_queue_is_abandoned(client: FlaskClient, db: Db) -> None:
    phone, _ = queued(client, "CA-left")
    assert phone.send("/twilio/status", CallStatus="canceled").status_code == 204
    entry = db.one("queue_entries", call_id=phone.sid)
    assert entry["state"] == "abandoned" and entry["wait_seconds"] is not None


def arranged_callback(line: Components, client: FlaskClient, db: Db, sid: str) -> int:
    """EMMA waits in the security queue over Twilio and takes a callback at her number."""
    line.settings = replace(line.settings, callback_offer_after=0)
    phone, reply = queued(client, sid)
    reply = phone.follow(reply)
    gather = reply.find("Gather")
    assert gather is not None, ET.tostring(reply)
    phone.press(phone.post(gather.attrib["action"], Digits="1"), "1")
    return int(db.one("callbacks")["id"])


def place_callback(line: Components, api: TwilioStandIn) -> list[str]:
    """An agent goes available and the dispatcher places the due callback through the
    REST API (the real twilio Client, against the local stand-in)."""
    center = line.contact_center
    bob = next(a for a in center.agents_view() if a.username == "bob")  # security, en
    center.set_availability(bob.id, True)
    account = TwilioAccount("AC" + "0" * 31 + "1", TOKEN, HOTLINE, BASE, api.url)
    return Dispatcher(lambda: center, TwilioDialer(TwilioRest(account))).run_once()


def test_a_callback_is_placed_greets_with_the_same_code_and_rings_the_agent(
    line: Components, client: FlaskClient, db: Db
) -> None:
    callback_id = arranged_callback(line, client, db, "CA-asked")
    code = line.contact_center.callback_code(callback_id)
    with TwilioStandIn() as api:
        assert len(place_callback(line, api)) == 1
        (placed,) = api.requests
    url = placed.field("Url")
    assert (url, placed.field("To")) == (f"{BASE}/twilio/voice?callback={callback_id}", EMMA[2])
    assert db.one("callbacks", id=callback_id)["state"] == "dialing"

    # Twilio fetches the Url when EMMA answers: From is the hotline, To is EMMA.
    back = Phone(client, "CA-back", HOTLINE)
    greeting = back.post(url, To=EMMA[2])
    assert said(greeting).count(" ".join(code)) == 2, said(greeting)  # the code she was given
    words = said(greeting)  # <Play> of the rendered prompt once `ivr prompts build` ran
    assert "callback_greeting.wav" in words or "calling you back" in words, words
    assert "callback_about_security.wav" in words or "suspicious activity" in words, words
    replayed = back.post(url, To=EMMA[2])  # Twilio retries: the same words, re-derived
    assert ET.tostring(replayed) == ET.tostring(greeting)
    assert code not in db.dump()  # the reply saying it was not stored
    assert db.one("callbacks", id=callback_id)["state"] == "connected"
    record = db.one("call_records", call_id="CA-back")  # our call has its record too
    assert (record["outcome"], record["channel"], record["caller_id"]) == (
        None, "twilio", EMMA[2],
    )  # fmt: skip

    dial = back.follow(greeting).find("Dial")
    assert dial is not None
    agent = dial.find("Client")
    assert agent is not None and agent.text == "bob"
    back.post(agent.attrib["url"], CallStatus="in-progress")
    assert back.post(dial.attrib["action"], DialCallStatus="completed")[-1].tag == "Hangup"
    status = back.send(f"/twilio/status?callback={callback_id}", CallStatus="completed")
    assert status.status_code == 204
    assert db.one("callbacks", id=callback_id)["state"] == "done"
    assert db.one("queue_entries", call_id="CA-asked")["state"] == "done"
    record = db.one("call_records", call_id="CA-back")
    assert (record["outcome"], record["last_node"]) == ("agent", "callback")
    assert record["ended_at"] is not None
    with TwilioStandIn() as api:
        assert place_callback(line, api) == [] and api.requests == []  # never dialled twice


def test_a_customer_hanging_up_on_our_callback_leaves_an_abandoned_record(
    line: Components, client: FlaskClient, db: Db
) -> None:
    callback_id = arranged_callback(line, client, db, "CA-asked-4")
    with TwilioStandIn() as api:
        assert len(place_callback(line, api)) == 1
        (placed,) = api.requests
    back = Phone(client, "CA-back-4", HOTLINE)
    back.post(placed.field("Url"), To=EMMA[2])  # answered: greeted with the code

    # she hangs up during the greeting: the status callback ends the call
    status = back.send(f"/twilio/status?callback={callback_id}", CallStatus="completed")

    assert status.status_code == 204
    record = db.one("call_records", call_id="CA-back-4")
    assert (record["outcome"], record["caller_id"]) == ("abandoned", EMMA[2])
    assert db.one("queue_entries", call_id="CA-asked-4")["state"] == "abandoned"
    assert db.one("callbacks", id=callback_id)["state"] == "done"
    assert {a["state"] for a in db.rows("agents") if a["username"] == "bob"} == {"available"}


def test_a_callback_nobody_answers_is_retried_later_in_the_same_place(
    line: Components, client: FlaskClient, db: Db
) -> None:
    callback_id = arranged_callback(line, client, db, "CA-asked-2")
    with TwilioStandIn() as api:
        place_callback(line, api)
    before = db.one("queue_entries", call_id="CA-asked-2")

    status = Phone(client, "CA-unanswered", HOTLINE).send(
        f"/twilio/status?callback={callback_id}", CallStatus="no-answer", To=EMMA[2]
    )

    assert status.status_code == 204
    row = db.one("callbacks", id=callback_id)
    assert (row["state"], row["attempts"]) == ("waiting", 1)
    entry = db.one("queue_entries", call_id="CA-asked-2")
    assert (entry["state"], entry["enqueued_at"]) == ("waiting", before["enqueued_at"])
    assert {a["state"] for a in db.rows("agents") if a["username"] == "bob"} == {"available"}
    again = Phone(client, "CA-unanswered", HOTLINE).send(
        f"/twilio/status?callback={callback_id}", CallStatus="no-answer", To=EMMA[2]
    )
    assert again.status_code == 204  # Twilio's retry of the same report
    assert db.one("callbacks", id=callback_id)["attempts"] == 1
    forged = Phone(client, "CA-unanswered", HOTLINE).send(
        f"/twilio/status?callback={callback_id}", token="wrong", CallStatus="no-answer"
    )
    assert forged.status_code == 403
    assert db.one("callbacks", id=callback_id)["attempts"] == 1  # a forged report changes nothing


def test_a_waiting_caller_hears_the_hold_music(client: FlaskClient) -> None:
    phone, reply = queued(client, "CA-music")
    reply = phone.follow(reply)  # nobody available: position, estimate, then hold music
    plays = [e.text or "" for e in reply.iter("Play")]
    music = [url for url in plays if "/twilio/audio/moh/hold-" in url]
    assert music, ET.tostring(reply)
    fetched = client.get(urlsplit(music[0]).path)
    assert fetched.status_code == 200 and fetched.mimetype == "audio/wav"
    assert fetched.data[:4] == b"RIFF" and len(fetched.data) > 8000  # ~3 s of 8 kHz audio
    assert client.get("/twilio/audio/moh/hold-9.wav").status_code == 404


def test_rendered_prompts_are_played_and_served(
    client: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wav = b"RIFF" + b"\0" * 40
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "choose_language.wav").write_bytes(wav)
    monkeypatch.setattr(twilio_hooks, "prompts_root", lambda flow: tmp_path)

    reply = Phone(client, "CA-audio", LI_WEI[2]).start()

    plays = [e.text or "" for e in reply.iter("Play")]
    assert plays == [f"{BASE}/twilio/audio/en/choose_language.wav"], ET.tostring(reply)
    assert client.get("/twilio/audio/en/choose_language.wav").data == wav
    assert client.get("/twilio/audio/en/welcome.wav").status_code == 404  # not rendered
    assert client.get("/twilio/audio/../callflows.yaml").status_code == 404


def test_a_callback_call_that_never_reached_the_webhook_is_a_failed_attempt(
    line: Components, client: FlaskClient, db: Db
) -> None:
    callback_id = arranged_callback(line, client, db, "CA-asked-3")
    with TwilioStandIn() as api:
        place_callback(line, api)
    phone = Phone(client, "CA-never-served", HOTLINE)

    # "completed", yet /twilio/voice was never fetched (our server was unreachable).
    assert (
        phone.send(f"/twilio/status?callback={callback_id}", CallStatus="completed").status_code
        == 204
    )

    row = db.one("callbacks", id=callback_id)
    assert (row["state"], row["attempts"]) == ("waiting", 1)  # not stuck "dialing"
    missing = phone.send("/twilio/status?callback=999", CallStatus="busy")
    assert missing.status_code == 204  # no such callback: logged, never a 500


def test_an_agent_with_a_phone_number_is_dialled_at_that_number(
    line: Components, client: FlaskClient, db: Db
) -> None:
    db.execute("UPDATE agents SET endpoint = :phone WHERE username = 'bob'", phone="+14155550123")
    phone, reply = queued(client, "CA-number")
    bob = next(a for a in line.contact_center.agents_view() if a.username == "bob")
    line.contact_center.set_availability(bob.id, True)

    dial = phone.follow(reply).find("Dial")

    assert dial is not None and dial.find("Client") is None
    number = dial.find("Number")
    assert number is not None and number.text == "+14155550123"
    phone.post(number.attrib["url"], CallStatus="in-progress")
    assert db.one("queue_entries", call_id=phone.sid)["state"] == "connected"


def test_a_customer_who_hangs_up_on_the_callback_greeting_ends_it(
    line: Components, client: FlaskClient, db: Db
) -> None:
    callback_id = arranged_callback(line, client, db, "CA-asked-4")
    with TwilioStandIn() as api:
        place_callback(line, api)
    back = Phone(client, "CA-back-4", HOTLINE)
    back.post(f"/twilio/voice?callback={callback_id}", To=EMMA[2])

    gone = back.send(f"/twilio/status?callback={callback_id}", CallStatus="completed")

    assert gone.status_code == 204
    assert db.one("queue_entries", call_id="CA-asked-4")["state"] == "abandoned"
    row = db.one("callbacks", id=callback_id)
    assert (row["state"], row["attempts"]) == ("done", 1)  # reached: not dialled again
    assert {a["state"] for a in db.rows("agents") if a["username"] == "bob"} == {"available"}


def test_no_pin_callback_code_or_reset_code_reaches_a_log(
    line: Components,
    client: FlaskClient,
    db: Db,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    debug_everything(caplog, monkeypatch)
    number, pin, phone_number = OMAR
    walk(Phone(client, "CA-log-reset", phone_number), f"1 1 {number} {pin} 9")
    reset = re.search(r"(?<!\d)\d{6}(?!\d)", db.one("sms_outbox")["body"])
    assert reset is not None
    callback_id = arranged_callback(line, client, db, "CA-log-asked")  # EMMA types her PIN
    code = line.contact_center.callback_code(callback_id)
    with TwilioStandIn() as api:
        place_callback(line, api)
        account = TwilioAccount("AC" + "0" * 31 + "1", TOKEN, HOTLINE, BASE, api.url)
        OutboxSender(line.unit_of_work, line.clock, TwilioRest(account).send_sms).send_queued()
    greeting = Phone(client, "CA-log-back", HOTLINE).post(
        f"{BASE}/twilio/voice?callback={callback_id}", To=EMMA[2]
    )
    assert said(greeting).count(" ".join(code)) == 2  # the caller heard it

    text = logged(caplog)
    assert "INSERT INTO sms_outbox" in text and "Twilio API Request" in text
    for secret in (pin, EMMA[1], reset.group(), code, " ".join(code)):
        assert secret not in text
    assert reset.group() not in db.dump()
