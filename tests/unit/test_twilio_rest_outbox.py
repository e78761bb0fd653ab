"""The SMS outbox sender over hand-written fakes: claims, retries, outcomes; and the
settings that turn Twilio on."""

from __future__ import annotations

from datetime import datetime

import pytest
from start_date import OPEN_UTC

from ivr.config import Settings
from ivr.errors import IvrError
from ivr.services import ports
from ivr.services.outbox import OutboxSender, SmsNotSent

NOW = OPEN_UTC


class FixedClock(ports.Clock):
    def now(self) -> datetime:
        return NOW


class FakeOutbox(ports.SmsOutbox):
    def __init__(self, rows: dict[int, tuple[str, str, str]]) -> None:
        self.rows = rows  # id -> (to, body, status)
        self.finished: list[tuple[int, str, datetime]] = []

    def claim(self, limit: int) -> list[ports.QueuedSms]:
        queued = [i for i, (_, _, status) in sorted(self.rows.items()) if status == "queued"]
        claimed = []
        for sms_id in queued[:limit]:
            to, body, _ = self.rows[sms_id]
            self.rows[sms_id] = (to, body, "sending")
            claimed.append(ports.QueuedSms(sms_id, to, body))
        return claimed

    def finish(self, sms_id: int, status: str, at: datetime) -> None:
        to, body, _ = self.rows[sms_id]
        self.rows[sms_id] = (to, body, status)
        self.finished.append((sms_id, status, at))


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
    rows: dict[int, tuple[str, str, str]], channel: Channel
) -> tuple[dict[int, str], FakeOutbox, list[float]]:
    outbox = FakeOutbox(rows)
    pauses: list[float] = []
    sender = OutboxSender(
        lambda: OutboxOnly(outbox), FixedClock(), channel.send, sleep=pauses.append
    )
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
        Settings.from_env({"IVR_CALLBACKS_VIA": "carrier-pigeon"})
