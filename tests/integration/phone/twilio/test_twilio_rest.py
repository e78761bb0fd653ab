"""Outbound work through the real twilio ``Client``, pointed at a local stand-in for the
REST API: the SMS outbox and callback calls, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest

from integration.support import Db, StoppedClock
from integration.twilio_api import TwilioStandIn
from ivr.app.bootstrap import Components
from ivr.app.channels import dispatcher_for
from ivr.app.dispatcher import Dispatcher
from ivr.phone.asterisk.channel import CallFileDialer
from ivr.phone.twilio.channel import TwilioDialer
from ivr.phone.twilio.rest import TwilioAccount, TwilioRest
from ivr.services.contact_entries import WaitingCall
from ivr.services.outbox import LIFETIME, REDACTED, OutboxSender

SID = "AC" + "0" * 31 + "1"
TOKEN = "test-auth-token"
HOTLINE_NUMBER = "+14155550100"
PUBLIC = "https://ivr.example.com"
MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"
CALLS = f"/2010-04-01/Accounts/{SID}/Calls.json"


@pytest.fixture
def api() -> Iterator[TwilioStandIn]:
    with TwilioStandIn() as stand_in:
        yield stand_in


def rest(api: TwilioStandIn) -> TwilioRest:
    return TwilioRest(TwilioAccount(SID, TOKEN, HOTLINE_NUMBER, PUBLIC, api.url))


def sender(hotline: Components, api: TwilioStandIn) -> OutboxSender:
    return OutboxSender(hotline.unit_of_work, hotline.clock, rest(api).send_sms, sleep=no_sleep)


def no_sleep(seconds: float) -> None:
    pass


def queue_sms(hotline: Components, *messages: tuple[str, str]) -> None:
    with hotline.unit_of_work() as uow:
        for to, body in messages:
            uow.requests.send_sms(to, body, hotline.clock.now())
        uow.commit()


def test_a_queued_sms_is_sent_once_and_marked_sent(
    hotline: Components, db: Db, api: TwilioStandIn
) -> None:
    queue_sms(hotline, ("+14155550102", "Your reset code is 123456"))

    outcome = sender(hotline, api).send_queued()

    (request,) = api.requests
    assert (request.method, request.path, request.user) == ("POST", MESSAGES, SID)
    assert request.form == {
        "To": ["+14155550102"],
        "From": [HOTLINE_NUMBER],
        "Body": ["Your reset code is 123456"],
    }
    (row,) = db.rows("sms_outbox")
    assert outcome == {row["id"]: "sent"}
    assert row["status"] == "sent"
    assert row["sent_at"] is not None
    assert "123456" not in db.dump()  # the code is gone once sent...
    assert row["body"] == f"{REDACTED} password-reset SMS, 25 characters"  # ...not the rest
    assert sender(hotline, api).send_queued() == {}  # nothing left: never sent twice
    assert len(api.requests) == 1


def test_a_server_error_is_retried_then_the_sms_fails(
    hotline: Components, db: Db, api: TwilioStandIn
) -> None:
    queue_sms(hotline, ("+14155550102", "code 1"))
    api.fail(500, "Internal Server Error", times=3)

    sender(hotline, api).send_queued()

    assert [r.path for r in api.requests] == [MESSAGES] * 3
    row = db.one("sms_outbox")
    assert (row["status"], row["sent_at"]) == ("failed", None)
    assert row["body"].startswith(REDACTED) and "code 1" not in row["body"]


def test_a_transient_error_then_success_sends_it(
    hotline: Components, db: Db, api: TwilioStandIn
) -> None:
    queue_sms(hotline, ("+14155550102", "code 2"))
    api.fail(503, "Service Unavailable")

    sender(hotline, api).send_queued()

    assert len(api.requests) == 2
    assert db.one("sms_outbox")["status"] == "sent"


def test_a_refused_number_fails_at_once(hotline: Components, db: Db, api: TwilioStandIn) -> None:
    queue_sms(hotline, ("12", "code 3"), ("+14155550102", "code 4"))
    api.fail(400, "The 'To' number 12 is not a valid phone number.", code=21211)

    sender(hotline, api).send_queued()

    assert [r.field("To") for r in api.requests] == ["12", "+14155550102"]
    assert [r["status"] for r in db.rows("sms_outbox")] == ["failed", "sent"]


def test_an_unsent_sms_past_its_codes_lifetime_is_expired_redacted_and_never_sent(
    hotline: Components, db: Db, api: TwilioStandIn, clock: StoppedClock
) -> None:
    queue_sms(hotline, ("+14155550102", "Your reset code is 314159"))
    clock.advance(seconds=LIFETIME.total_seconds() - 1)
    queue_sms(hotline, ("+14155550103", "Your reset code is 271828"))
    clock.advance(seconds=1)

    outcome = sender(hotline, api).send_queued()

    old, young = db.rows("sms_outbox")
    assert outcome == {old["id"]: "expired", young["id"]: "sent"}
    assert [r.field("To") for r in api.requests] == ["+14155550103"]
    assert (old["status"], old["sent_at"]) == ("expired", None)
    assert "314159" not in db.dump() and "271828" not in db.dump()
    clock.advance(hours=1)
    assert sender(hotline, api).send_queued() == {}
    assert len(api.requests) == 1


def test_without_twilio_the_dispatcher_still_expires_old_messages(
    hotline: Components, db: Db, clock: StoppedClock
) -> None:
    queue_sms(hotline, ("+14155550102", "Your reset code is 161803"))
    clock.advance(seconds=LIFETIME.total_seconds())

    dispatcher_for(hotline).run_once()

    row = db.one("sms_outbox")
    assert row["status"] == "expired" and "161803" not in db.dump()


def test_two_senders_at_once_send_each_row_once(hotline: Components, db: Db) -> None:
    queue_sms(hotline, *((f"+1415555{n:04d}", f"code {n}") for n in range(12)))
    start = threading.Barrier(2)

    with TwilioStandIn(delay=0.01) as api:

        def run() -> None:
            start.wait()
            sender(hotline, api).send_queued(limit=5)
            sender(hotline, api).send_queued(limit=5)
            sender(hotline, api).send_queued(limit=5)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

    bodies = [r.field("Body") for r in api.requests]
    assert sorted(bodies) == sorted(f"code {n}" for n in range(12))  # each exactly once
    assert {r["status"] for r in db.rows("sms_outbox")} == {"sent"}


def due_callback(hotline: Components, call_id: str, number: str) -> int:
    center = hotline.contact_center
    entry = center.enqueue(
        WaitingCall(call_id, "general", 1, "general", "en", number, None, "security", ())
    )
    callback, _code = center.request_callback(entry.id, number)
    alice = next(a for a in center.agents_view() if a.username == "alice")
    center.set_availability(alice.id, True)
    return callback.id


def test_a_due_callback_is_a_twilio_call_answered_by_the_webhooks(
    hotline: Components, db: Db, api: TwilioStandIn
) -> None:
    callback_id = due_callback(hotline, "call-t1", "+14155550102")
    center = hotline.contact_center
    dispatcher = Dispatcher(lambda: center, TwilioDialer(rest(api)))

    dialled = dispatcher.run_once()

    (request,) = api.requests
    assert dialled == [f"CA{1:032x}"]
    assert (request.path, request.user) == (CALLS, SID)
    assert request.form == {
        "To": ["+14155550102"],
        "From": [HOTLINE_NUMBER],
        "Url": [f"{PUBLIC}/twilio/voice?callback={callback_id}"],
        "StatusCallback": [f"{PUBLIC}/twilio/status?callback={callback_id}"],
        "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
        "Timeout": ["30"],  # the customer's phone rings as long as the claim's lease says
    }
    assert db.one("callbacks", id=callback_id)["state"] == "dialing"
    assert dispatcher.run_once() == []  # claimed once: never dialled twice
    assert len(api.requests) == 1


def test_an_api_error_on_a_callback_call_is_a_failed_attempt(
    hotline: Components, db: Db, api: TwilioStandIn
) -> None:
    callback_id = due_callback(hotline, "call-t2", "+14155550102")
    center = hotline.contact_center
    api.fail(400, "The number is unverified.", code=21219)

    assert Dispatcher(lambda: center, TwilioDialer(rest(api))).run_once() == []

    row = db.one("callbacks", id=callback_id)
    assert (row["state"], row["attempts"]) == ("waiting", 1)  # retried later


def test_the_hotline_dispatcher_sends_the_outbox_when_twilio_is_configured(
    hotline: Components, db: Db, api: TwilioStandIn
) -> None:
    hotline.settings = replace(
        hotline.settings,
        twilio_account_sid=SID,
        twilio_auth_token=TOKEN,
        twilio_from=HOTLINE_NUMBER,
        twilio_api_base=api.url,
        public_url=PUBLIC,
        callbacks_via="twilio",
    )
    queue_sms(hotline, ("+14155550102", "code 5"))
    callback_id = due_callback(hotline, "call-t3", "+14155550103")

    dispatcher_for(hotline).run_once()

    assert [r.path for r in api.requests] == [CALLS, MESSAGES]
    assert db.one("sms_outbox")["status"] == "sent"
    assert db.one("callbacks", id=callback_id)["state"] == "dialing"


def test_without_twilio_settings_the_outbox_waits_and_callbacks_are_call_files(
    hotline: Components, db: Db
) -> None:
    queue_sms(hotline, ("+14155550102", "code 6"))

    dispatcher = dispatcher_for(hotline)

    assert (type(dispatcher.dialer), dispatcher.send_sms) == (CallFileDialer, False)
    dispatcher.run_once()
    assert db.one("sms_outbox")["status"] == "queued"
