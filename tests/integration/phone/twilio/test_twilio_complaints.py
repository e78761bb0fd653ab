"""Main menu 5 over signed Twilio webhooks, on SQLite and PostgreSQL: a complaint opened
by keypad, its reference in what the caller hears (twice) and in the SMS outbox; the next
call hears its status; and a database away while opening sends the caller to the apology
and a person, with nothing half-written."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from flask.testing import FlaskClient

from integration.phone.twilio.test_twilio_voice import BASE, TOKEN, Phone, twilio_client, walk
from integration.support import EMMA, OMAR, Db
from ivr.app.bootstrap import Components


@pytest.fixture
def client(hotline: Components) -> FlaskClient:
    """The web app with the Twilio webhooks, signed with ``TOKEN``."""
    hotline.settings = replace(
        hotline.settings, twilio_auth_token=TOKEN, public_url=BASE, secret_key="k" * 32
    )
    return twilio_client(hotline)


def hears(reply: ET.Element) -> str:
    """What a reply says or plays, texts and file names, Gather's children included."""
    return " ".join((e.text or "") for e in reply.iter() if e.tag in ("Say", "Play"))


def spoken(reference: str) -> str:
    """A reference as ``<Say>`` has it: digit by digit."""
    return " ".join(reference)


def test_a_complaint_is_opened_over_webhooks(client: FlaskClient, db: Db) -> None:
    number, pin, phone_number = OMAR
    phone = Phone(client, "CA-complaint", phone_number)

    reply = walk(phone, f"1 5 {number} {pin} 3 2")

    [row] = db.rows("complaints")
    assert (row["account_number"], row["category"], row["state"]) == (number, "service", "open")
    assert row["call_id"] == phone.sid
    heard = hears(reply)
    assert heard.count(spoken(row["reference"])) == 2  # read back twice, digit by digit
    [sms] = db.rows("sms_outbox")
    assert sms["to"] == phone_number and row["reference"] in sms["body"]
    assert reply.find("Gather") is not None  # anything_else
    reply = phone.press(reply, "9")
    assert reply[-1].tag == "Hangup"
    record = db.one("call_records", call_id=phone.sid)
    assert (record["reason"], record["outcome"]) == ("complaint", "solved")
    assert "complaint_open" in record["path"]


def test_the_next_call_hears_the_status(client: FlaskClient, db: Db) -> None:
    number, pin, phone_number = EMMA
    walk(Phone(client, "CA-first", phone_number), f"1 5 {number} {pin} 1 2")
    [row] = db.rows("complaints")

    reply = walk(Phone(client, "CA-again", phone_number), f"1 5 {number} {pin}")

    record = db.one("call_records", call_id="CA-again")
    assert "complaint_status_open" in record["path"]
    heard = hears(reply)
    assert spoken(row["reference"]) in heard
    assert db.count("complaints") == 1


def test_a_database_away_while_opening_goes_to_the_safe_route(
    client: FlaskClient, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    number, pin, phone_number = EMMA
    phone = Phone(client, "CA-outage", phone_number)
    reply = walk(phone, f"1 5 {number} {pin}")  # the category menu

    def away(*args: object) -> None:
        raise ConnectionError("the database went away")

    monkeypatch.setattr("ivr.store.complaint_repositories.SqlComplaints.add", away)
    reply = phone.press(reply, "2")  # fees
    reply = phone.press(reply, "2")  # no message

    heard = hears(reply)
    path = db.one("call_records", call_id=phone.sid)["path"]
    # the apology: its rendered file when there is one, else its text
    assert "/en/system_error.wav" in heard or "Sorry, we're having a technical problem" in heard
    assert path[path.index("complaint_open") + 1] == "system_error"
    assert db.count("complaints") == 0 and db.count("complaint_events") == 0
    assert db.count("sms_outbox") == 0
    assert db.rows("audit_log", action="complaint_opened") == []
