"""Twilio as a ``Channel`` (``ivr.phone.channel``): its webhooks (web routes the web server
mounts), callbacks as Twilio calls and SMS through the REST API, when an account is
configured. No listener of its own: Twilio calls the web server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ivr.phone.twilio.dialer import TwilioDialer, sms_sender
from ivr.phone.twilio.rest import TwilioNotConfigured

if TYPE_CHECKING:
    from flask import Blueprint

    from ivr.phone.channel import Parts, Server, SmsSender
    from ivr.phone.twilio.call_state import CallStates
    from ivr.phone.twilio.rest import TwilioRest
    from ivr.phone.twilio.settings import TwilioSettings


class TwilioChannel:
    """Twilio for ``parts``: ``settings`` (the account, the auth token that signs the
    webhooks, the public URL), ``calls`` (where each call's state is kept between
    webhooks) and ``rest``, the account's REST client (None: no account, so no callbacks
    or SMS through Twilio; the webhooks are served all the same, and refuse unsigned
    requests)."""

    name = "twilio"

    def __init__(
        self,
        parts: Parts,
        settings: TwilioSettings,
        calls: CallStates,
        rest: TwilioRest | None,
    ) -> None:
        self.parts = parts
        self.settings = settings
        self.calls = calls
        self.rest = rest

    def servers(self) -> Sequence[Server]:
        return []

    def blueprint(self) -> Blueprint:
        from ivr.phone.twilio.webhooks import make_blueprint  # only with a web server

        return make_blueprint(self.parts, self.settings, self.calls)

    def dialer(self) -> TwilioDialer:
        """Raises ``TwilioNotConfigured`` without an account: callbacks were asked of
        Twilio (``IVR_CALLBACKS_VIA=twilio``) but cannot be placed."""
        if self.rest is None:
            raise TwilioNotConfigured(
                "IVR_CALLBACKS_VIA=twilio needs IVR_TWILIO_ACCOUNT_SID, "
                "IVR_TWILIO_AUTH_TOKEN and IVR_TWILIO_FROM"
            )
        return TwilioDialer(self.rest)

    def sms(self) -> SmsSender | None:
        return sms_sender(self.rest) if self.rest is not None else None
