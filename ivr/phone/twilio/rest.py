"""Outbound work through Twilio's REST API with the twilio ``Client``: SMS (the outbox's
``send``) and callback calls (``calls.create`` to the customer; the call is answered by
the same webhooks as an inbound one, ``/twilio/voice?callback=<id>``).

``IVR_TWILIO_API_BASE`` replaces the API's base URL (``client.api.base_url``, which
every ``/2010-04-01/Accounts/<sid>/...`` URL is built from), so the real client can talk
to a local stand-in. Errors come back as ``SmsNotSent`` / ``CallNotPlaced``, carrying
the HTTP status and Twilio's message; nothing of twilio leaks to the services.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from requests import RequestException
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from ivr.errors import IvrError
from ivr.phone.twilio.settings import TwilioFields, TwilioSettings
from ivr.services.outbox import SmsNotSent

#: The call progress Twilio reports to ``/twilio/status``.
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")


class TwilioNotConfigured(IvrError):
    """Twilio was asked for without the account settings it needs."""


class CallNotPlaced(IvrError):
    """Twilio did not take the callback call."""


@dataclass(frozen=True)
class TwilioAccount:
    account_sid: str
    auth_token: str
    from_number: str
    public_url: str | None = None
    api_base: str | None = None

    @classmethod
    def from_settings(cls, settings: TwilioSettings) -> TwilioAccount | None:
        """The account, or None unless the SID, auth token and number are all set."""
        sid, token, number = settings.account_sid, settings.auth_token, settings.from_number
        if not (sid and token and number):
            return None
        return cls(sid, token, number, settings.public_url, settings.api_base)


class TwilioRest:
    """``send_sms(to, body)`` and ``call_back(callback_id, number)``; each returns the SID."""

    def __init__(self, account: TwilioAccount, client: Client | None = None) -> None:
        self.account = account
        self.client = client or Client(account.account_sid, account.auth_token)
        if account.api_base:
            self.client.api.base_url = account.api_base

    def send_sms(self, to: str, body: str) -> str:
        try:
            message = self.client.messages.create(to=to, from_=self.account.from_number, body=body)
        except TwilioException as exc:
            status = getattr(exc, "status", None)
            transient = not isinstance(status, int) or status >= 500 or status == 429
            raise SmsNotSent(_explain(exc), transient) from exc
        except RequestException as exc:
            raise SmsNotSent(f"Twilio unreachable: {exc}", transient=True) from exc
        return str(message.sid)

    def call_back(self, callback_id: int, number: str, ring_seconds: int | None = None) -> str:
        """Place the callback call; its SID. ``ring_seconds``: how long the customer's
        phone rings (Twilio's ``timeout``; by default Twilio's own, 60)."""
        if not self.account.public_url:
            raise TwilioNotConfigured("callbacks through Twilio need IVR_PUBLIC_URL")
        query = urlencode({"callback": callback_id})
        base = self.account.public_url.rstrip("/")
        try:
            call = self.client.calls.create(
                to=number,
                from_=self.account.from_number,
                url=f"{base}/twilio/voice?{query}",
                status_callback=f"{base}/twilio/status?{query}",
                status_callback_event=list(STATUS_EVENTS),
                **({} if ring_seconds is None else {"timeout": ring_seconds}),
            )
        except TwilioException as exc:
            raise CallNotPlaced(_explain(exc)) from exc
        except RequestException as exc:
            raise CallNotPlaced(f"Twilio unreachable: {exc}") from exc
        return str(call.sid)


def twilio_for(settings: TwilioSettings | TwilioFields) -> TwilioRest | None:
    """A client for the configured account, or None when there is none. ``settings``:
    Twilio's, or (until its Twilio fields move out) the app's ``Settings``."""
    account = TwilioAccount.from_settings(TwilioSettings.of(settings))
    return TwilioRest(account) if account else None


def _explain(exc: TwilioException) -> str:
    status = getattr(exc, "status", None)
    message = getattr(exc, "msg", None) or str(exc)
    code = getattr(exc, "code", None)
    detail = f" (Twilio error {code})" if code else ""
    return f"Twilio answered {status}: {message}{detail}" if status else f"{message}{detail}"
