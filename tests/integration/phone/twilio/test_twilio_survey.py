"""The post-call survey over Twilio's webhooks, on SQLite and PostgreSQL: after
self-service (the surveyed copy of the real flow, ``tests/survey_flow.py``) with a comment
recorded by ``<Record>`` (its URL and SID kept, the audio left with Twilio), and after a
talk with an agent (``<Dial action>``: the queue's ``after_agent``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from survey_flow import surveyed_flow

from integration.phone.twilio.test_twilio_voice import (
    BASE,
    TOKEN,
    Phone,
    said,
    twilio_client,
    walk,
)
from integration.support import EMMA, Db, sign_in_busy
from ivr.app.bootstrap import Components

SID = "RE" + "0123456789abcdef" * 2
URL = f"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/{SID}"


@pytest.fixture
def line(hotline: Components, tmp_path: Path) -> Components:
    hotline.settings = replace(
        hotline.settings,
        twilio_auth_token=TOKEN,
        public_url=BASE,
        secret_key="k" * 32,
        flow_path=surveyed_flow(tmp_path / "flow"),
    )
    return hotline


@pytest.fixture
def client(line: Components) -> FlaskClient:
    return twilio_client(line)


def surveyed(client: FlaskClient, sid: str) -> tuple[Phone, ET.Element]:
    """EMMA resets her password and says that's all: the survey's question."""
    number, pin, phone_number = EMMA
    phone = Phone(client, sid, phone_number)
    return phone, walk(phone, f"1 1 {number} {pin} 9")


def test_a_score_and_a_recorded_comment_are_kept_with_twilios_url(
    client: FlaskClient, db: Db
) -> None:
    phone, reply = surveyed(client, "CA-survey-1")
    gather = reply.find("Gather")
    assert gather is not None and gather.attrib["numDigits"] == "1"
    assert "rate this call" in said(reply) or "survey_score.wav" in said(reply)
    offer = phone.press(reply, "4")
    recording = phone.press(offer, "1")
    record = recording.find("Record")
    assert record is not None, ET.tostring(recording)
    assert (record.attrib["maxLength"], record.attrib["finishOnKey"]) == ("60", "#")
    assert [e.tag for e in recording][-2:] == ["Record", "Redirect"]
    end = phone.post(record.attrib["action"], RecordingSid=SID, RecordingUrl=URL)
    assert end[-1].tag == "Hangup"
    assert "feedback" in said(end) or "survey_thanks.wav" in said(end)
    answer = db.one("survey_answers", call_id="CA-survey-1")
    assert (answer["score"], answer["comment_recording"], answer["queue"]) == (4, SID, None)
    assert db.one("recordings", id=SID)["location"] == URL
    again = phone.post(record.attrib["action"], RecordingSid=SID, RecordingUrl=URL)
    assert ET.tostring(again) == ET.tostring(end)  # Twilio retries: the same reply, once
    assert db.count("survey_answers") == 1


@pytest.mark.parametrize(
    "form",
    [{}, {"RecordingSid": "not-a-sid", "RecordingUrl": URL}, {"RecordingSid": SID}],
    ids=["nothing recorded", "a bad sid", "no url"],
)
def test_no_usable_recording_still_saves_the_score(
    client: FlaskClient, db: Db, form: dict[str, str]
) -> None:
    phone, reply = surveyed(client, "CA-survey-2")
    recording = phone.press(phone.press(reply, "2"), "1")
    if form:
        record = recording.find("Record")
        assert record is not None
        end = phone.post(record.attrib["action"], **form)
    else:
        end = phone.follow(recording)  # <Record> heard nothing: Twilio goes on
    assert end[-1].tag == "Hangup"
    answer = db.one("survey_answers", call_id="CA-survey-2")
    assert (answer["score"], answer["comment_recording"]) == (2, None)
    assert db.count("recordings") == 0


def test_after_the_agent_hangs_up_the_caller_rates_the_agent(
    line: Components, client: FlaskClient, db: Db
) -> None:
    sign_in_busy(db)
    number, pin, phone_number = EMMA
    phone = Phone(client, "CA-survey-agent", phone_number)
    reply = phone.follow(walk(phone, f"1 2 {number} {pin} 0"))  # payments: a person, please
    center = line.contact_center
    for agent in db.rows("agents"):
        center.set_availability(agent["id"], True)
    reply = phone.follow(reply)
    dial = reply.find("Dial")
    assert dial is not None, ET.tostring(reply)
    agent_el = dial.find("Client")
    assert agent_el is not None
    phone.post(agent_el.attrib["url"], CallStatus="in-progress")
    after = phone.post(dial.attrib["action"], DialCallStatus="completed")
    assert after.find("Gather") is not None, ET.tostring(after)
    assert "our agent" in said(after) or "survey_agent_score.wav" in said(after)
    entry = db.one("queue_entries", call_id=phone.sid)
    assert entry["state"] == "done" and entry["queue"] == "payments"
    end = phone.press(phone.press(after, "5"), "2")
    assert end[-1].tag == "Hangup"
    answer = db.one("survey_answers", call_id=phone.sid)
    assert (answer["score"], answer["queue"], answer["agent_id"]) == (
        5,
        "payments",
        entry["agent_id"],
    )
    assert phone.send("/twilio/status", CallStatus="completed").status_code == 204
    record = db.one("call_records", call_id=phone.sid)
    assert (record["outcome"], record["queue"]) == ("queued", "payments")  # a call a person took
    assert record["last_node"] == "goodbye"


def test_a_caller_who_hangs_up_during_the_survey_after_the_agent_stays_queued(
    line: Components, client: FlaskClient, db: Db
) -> None:
    sign_in_busy(db)
    number, pin, phone_number = EMMA
    phone = Phone(client, "CA-survey-gone", phone_number)
    reply = phone.follow(walk(phone, f"1 2 {number} {pin} 0"))
    for agent in db.rows("agents"):
        line.contact_center.set_availability(agent["id"], True)
    dial = phone.follow(reply).find("Dial")
    assert dial is not None
    phone.post(dial.find("Client").attrib["url"], CallStatus="in-progress")  # type: ignore[union-attr]
    phone.post(dial.attrib["action"], DialCallStatus="completed")
    assert phone.send("/twilio/status", CallStatus="completed").status_code == 204
    record = db.one("call_records", call_id=phone.sid)
    assert record["outcome"] == "queued" and record["ended_at"] is not None
    assert db.count("survey_answers") == 0
