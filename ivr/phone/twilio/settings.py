"""Twilio's own settings, read once from the environment into one frozen object.

``IVR_TWILIO_AUTH_TOKEN`` signs the webhooks (without it they are all refused) and, with
``IVR_TWILIO_ACCOUNT_SID`` and ``IVR_TWILIO_FROM``, lets the REST client send SMS and
place callback calls. ``IVR_PUBLIC_URL`` is the base URL Twilio calls (behind a proxy or
tunnel); ``IVR_TWILIO_API_BASE`` points the REST client at a local stand-in (tests).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


class TwilioFields(Protocol):
    """The Twilio fields of the app's ``Settings`` (read duck-typed until they move here)."""

    @property
    def twilio_auth_token(self) -> str | None: ...
    @property
    def twilio_account_sid(self) -> str | None: ...
    @property
    def twilio_from(self) -> str | None: ...
    @property
    def twilio_api_base(self) -> str | None: ...
    @property
    def public_url(self) -> str | None: ...


@dataclass(frozen=True)
class TwilioSettings:
    #: ``IVR_TWILIO_AUTH_TOKEN``: signs Twilio's webhooks; without it they are all refused.
    auth_token: str | None = field(default=None, repr=False)
    #: ``IVR_TWILIO_ACCOUNT_SID``; with the auth token and ``from_number``, the REST client.
    account_sid: str | None = None
    #: ``IVR_TWILIO_FROM``: the hotline's number, E.164 (SMS sender, callbacks' caller id).
    from_number: str | None = None
    #: ``IVR_TWILIO_API_BASE``: the API's base URL (None: the client's own,
    #: https://api.twilio.com); the tests point it at a local stand-in.
    api_base: str | None = None
    #: ``IVR_PUBLIC_URL``: the base URL Twilio calls, e.g. ``https://ivr.example.com``;
    #: None: the URL the request arrived at.
    public_url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TwilioSettings:
        """``IVR_TWILIO_AUTH_TOKEN``, ``IVR_TWILIO_ACCOUNT_SID``, ``IVR_TWILIO_FROM``,
        ``IVR_TWILIO_API_BASE``, ``IVR_PUBLIC_URL`` (``os.environ`` when None); empty is
        unset, and the URLs lose a trailing slash."""
        env = os.environ if environ is None else environ
        return cls(
            auth_token=env.get("IVR_TWILIO_AUTH_TOKEN") or None,
            account_sid=env.get("IVR_TWILIO_ACCOUNT_SID") or None,
            from_number=env.get("IVR_TWILIO_FROM") or None,
            api_base=(env.get("IVR_TWILIO_API_BASE") or "").rstrip("/") or None,
            public_url=(env.get("IVR_PUBLIC_URL") or "").rstrip("/") or None,
        )

    @classmethod
    def of(cls, settings: TwilioSettings | TwilioFields) -> TwilioSettings:
        """These settings, or the Twilio fields of the app's ``Settings``."""
        if isinstance(settings, TwilioSettings):
            return settings
        return cls(
            auth_token=settings.twilio_auth_token,
            account_sid=settings.twilio_account_sid,
            from_number=settings.twilio_from,
            api_base=settings.twilio_api_base,
            public_url=settings.public_url,
        )
