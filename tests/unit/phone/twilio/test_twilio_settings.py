"""Twilio's own settings from the environment, and the dialer and SMS sender the
composition root gets from one REST client."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.phone.twilio.dialer import TwilioDialer, sms_sender
from ivr.phone.twilio.rest import TwilioAccount, TwilioRest
from ivr.phone.twilio.settings import TwilioSettings


def test_twilio_settings_from_the_environment() -> None:
    settings = TwilioSettings.from_env(
        {
            "IVR_TWILIO_ACCOUNT_SID": "AC1",
            "IVR_TWILIO_AUTH_TOKEN": "t0ken",
            "IVR_TWILIO_FROM": "+14155550100",
            "IVR_TWILIO_API_BASE": "http://127.0.0.1:9999/",
            "IVR_PUBLIC_URL": "https://ivr.example.com/",
        }
    )

    assert settings == TwilioSettings(
        "t0ken", "AC1", "+14155550100", "http://127.0.0.1:9999", "https://ivr.example.com"
    )
    assert "t0ken" not in repr(settings)
    empty = {"IVR_TWILIO_FROM": "", "IVR_PUBLIC_URL": ""}
    assert TwilioSettings.from_env(empty) == TwilioSettings()
    assert TwilioAccount.from_settings(TwilioSettings.from_env({})) is None


@dataclass
class Callback:
    id: int
    number: str


class RecordingRest(TwilioRest):
    """A REST client that records what it was asked and places nothing."""

    def __init__(self) -> None:
        self.asked: list[tuple[object, ...]] = []

    def call_back(self, callback_id: int, number: str, ring_seconds: int | None = None) -> str:
        self.asked.append(("call", callback_id, number, ring_seconds))
        return "CA-placed"

    def send_sms(self, to: str, body: str) -> str:
        self.asked.append(("sms", to, body))
        return "SM-sent"


def test_the_dialer_and_the_sms_sender_go_through_the_rest_client() -> None:
    rest = RecordingRest()

    placed = TwilioDialer(rest).call_back(Callback(7, "+14155550123"), 25)  # type: ignore[arg-type]
    sent = sms_sender(rest)("+14155550123", "hello")

    assert (placed, sent) == ("CA-placed", "SM-sent")
    assert rest.asked == [("call", 7, "+14155550123", 25), ("sms", "+14155550123", "hello")]
