"""The SMS outbox sender over hand-written fakes: claims, retries, outcomes; and the
settings that turn Twilio on."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from start_date import OPEN_UTC

from ivr.app.config import Settings
from ivr.errors import IvrError
from ivr.services import ports
from ivr.services.outbox import LIFETIME, REDACTED, OutboxSender, SmsNotSent

NOW = OPEN_UTC


class FixedClock(ports.Clock):
    """NOW, until a pause moves it (``sleep``)."""

    def __init__(self) -> None:
        self.current = NOW

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class FakeOutbox(ports.SmsOutbox):
    def __init__(
        self, rows: dict[int, tuple[str, str, str]], created: dict[int, datetime] | None = None
    ) -> None:
        self.rows = rows  # id -> (to, body, status)
        self.created = {i: (created or {}).get(i, NOW) for i in rows}
        self.finished: list[tuple[int, str, datetime]] = []

    def claim(self, limit: int, created_after: datetime) -> list[ports.QueuedSms]:
        queued = [
            i
            for i, (_, _, status) in sorted(self.rows.items())
            if status == "queued" and self.created[i] > created_after
        ]
        claimed = []
        for sms_id in queued[:limit]:
            to, body, _ = self.rows[sms_id]
            self.rows[sms_id] = (to, body, "sending")
            claimed.append(ports.QueuedSms(sms_id, to, body, self.created[sms_id]))
        return claimed

    def finish(self, sms_id: int, status: str, at: datetime) -> None:
        to, body, _ = self.rows[sms_id]
        self.rows[sms_id] = (to, f"{REDACTED} {len(body)}", status)
        self.finished.append((sms_id, status, at))

    def expire(self, created_before: datetime) -> list[int]:
        expired = []
        for sms_id, (to, body, status) in sorted(self.rows.items()):
            if self.created[sms_id] <= created_before and status == "queued":
                self.rows[sms_id] = (to, f"{REDACTED} {len(body)}", "expired")
                expired.append(sms_id)
        return expired


class OutboxOnly(ports.UnitOfWork):
    def __init__(self, outbox: FakeOutbox) -> None:
        self.outbox = outbox
        self.commits = 0

    def commit(self) -> None:
        self.commits += 1

    def rollback(self) -> None:
        pass


class Channel:
    """``send``: fails with the queued errors first, then answers with message ids."""

    def __init__(self, *errors: SmsNotSent) -> None:
        self.errors = list(errors)
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, body: str) -> str:
        self.sent.append((to, body))
        if self.errors:
            raise self.errors.pop(0)
        return f"SM{len(self.sent)}"


def run(
    rows: dict[int, tuple[str, str, str]],
    channel: Channel,
    created: dict[int, datetime] | None = None,
    pause: float = 0.0,
) -> tuple[dict[int, str], FakeOutbox, list[float]]:
    """One round; each pause moves the clock ``pause`` seconds on top of its own."""
    outbox = FakeOutbox(rows, created)
    pauses: list[float] = []
    clock = FixedClock()

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        clock.sleep(seconds + pause)

    sender = OutboxSender(lambda: OutboxOnly(outbox), clock, channel.send, sleep=sleep)
    return sender.send_queued(), outbox, pauses


def test_queued_rows_are_sent_and_marked_sent_with_the_time() -> None:
    channel = Channel()
    outcome, outbox, _ = run({1: ("+1", "a", "queued"), 2: ("+2", "b", "sent")}, channel)

    assert outcome == {1: "sent"}
    assert channel.sent == [("+1", "a")]
    assert outbox.finished == [(1, "sent", NOW)]


def test_a_transient_failure_is_retried_with_pauses_then_fails() -> None:
    channel = Channel(*(SmsNotSent("503", transient=True) for _ in range(3)))
    outcome, outbox, pauses = run({1: ("+1", "a", "queued")}, channel)

    assert outcome == {1: "failed"}
    assert len(channel.sent) == 3
    assert pauses == [0.5, 1.0]
    assert outbox.rows[1][2] == "failed"


def test_a_refusal_fails_at_once() -> None:
    channel = Channel(SmsNotSent("400 invalid number", transient=False))
    outcome, _, pauses = run({1: ("12", "a", "queued")}, channel)

    assert (outcome, len(channel.sent), pauses) == ({1: "failed"}, 1, [])


def test_a_message_older_than_its_code_is_expired_and_never_sent() -> None:
    channel = Channel()
    old = {1: NOW - LIFETIME, 2: NOW - LIFETIME + timedelta(seconds=1)}
    rows = {1: ("+1", "code 123456", "queued"), 2: ("+2", "code 654321", "queued")}
    outcome, outbox, _ = run(rows, channel, created=old)

    assert outcome == {1: "expired", 2: "sent"}
    assert channel.sent == [("+2", "code 654321")]
    assert outbox.rows[1][2] == "expired" and "123456" not in outbox.rows[1][1]


def test_a_retry_is_not_made_once_the_code_has_expired() -> None:
    channel = Channel(SmsNotSent("503", transient=True), SmsNotSent("503", transient=True))
    almost = {1: NOW - LIFETIME + timedelta(seconds=30)}
    outcome, outbox, pauses = run({1: ("+1", "a", "queued")}, channel, almost, pause=29.6)

    assert outcome == {1: "expired"}
    assert len(channel.sent) == 1 and pauses == [0.5]
    assert outbox.finished == [(1, "expired", NOW + timedelta(seconds=30.1))]


def test_twilio_settings_from_the_environment() -> None:
    env = {
        "IVR_TWILIO_ACCOUNT_SID": "AC1",
        "IVR_TWILIO_AUTH_TOKEN": "token",
        "IVR_TWILIO_FROM": "+14155550100",
        "IVR_TWILIO_API_BASE": "http://127.0.0.1:9999/",
        "IVR_CALLBACKS_VIA": "Twilio",
    }
    settings = Settings.from_env(env)

    assert settings.twilio_account_sid == "AC1"
    assert settings.twilio_from == "+14155550100"
    assert settings.twilio_api_base == "http://127.0.0.1:9999"
    assert settings.callbacks_via == "twilio"
    assert Settings.from_env({}).callbacks_via == "asterisk"
    with pytest.raises(IvrError, match="IVR_CALLBACKS_VIA"):
        Settings.from_env({"IVR_CALLBACKS_VIA": "carrier pigeon"})


def test_the_secrets_in_the_settings_stay_out_of_their_repr() -> None:
    env = {"IVR_SECRET_KEY": "s3cret-key", "IVR_TWILIO_AUTH_TOKEN": "t0ken", "IVR_PEPPER": "p3pper"}
    shown = repr(Settings.from_env(env))

    assert not {"s3cret-key", "t0ken", "p3pper"} & set(re.findall(r"[\w-]+", shown))
