"""Only Twilio may drive a call: every webhook's ``X-Twilio-Signature`` is checked with the
account's auth token over the public URL (``IVR_PUBLIC_URL`` + path + query, so it works
behind a proxy or tunnel) and the POSTed form. No token configured: everything refused.

A refusal is a 403 ``HTTPException``: the app the webhooks are mounted on shows it."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping

from flask import abort, request
from twilio.request_validator import RequestValidator

from ivr.phone.twilio.settings import TwilioSettings
from ivr.services.metrics import signature_refused

logger = logging.getLogger(__name__)
HEADER = "X-Twilio-Signature"


def public_url(settings: TwilioSettings) -> str:
    """The URL Twilio signed: the public base (or the one the request came to), the path
    and the query string."""
    base = settings.public_url or host_url()
    query = request.query_string.decode()
    return f"{base}{request.path}" + (f"?{query}" if query else "")


def host_url() -> str:
    """The scheme and host the request came to (``request.host_url`` without its slash,
    and without werkzeug's IRI decoding: the host as it was sent, as Twilio signed it)."""
    return f"{request.scheme}://{request.host}"


def check(settings: TwilioSettings, validator: RequestValidator | None = None) -> None:
    """Refuse (403) a request Twilio did not sign with our token. ``validator``: one
    built for ``settings.auth_token`` (``validator_for``), kept by the caller."""
    if not settings.auth_token:
        logger.error("refused a Twilio webhook: IVR_TWILIO_AUTH_TOKEN is not set")
        signature_refused("no_token")
        abort(403, "Twilio webhooks are refused: no auth token is configured")
    signature = request.headers.get(HEADER, "")
    validator = validator or RequestValidator(settings.auth_token)
    params = request.form.to_dict() if request.method == "POST" else {}
    if not signature or not _signed(validator, public_url(settings), params, signature):
        logger.warning("refused a Twilio webhook to %s: bad or missing signature", request.path)
        signature_refused("bad_signature" if signature else "no_signature")
        abort(403, "missing or wrong Twilio signature")


def validator_for(settings: TwilioSettings) -> RequestValidator | None:
    """The validator of ``settings``' auth token (None without one), built once."""
    return RequestValidator(settings.auth_token) if settings.auth_token else None


def _signed(
    validator: RequestValidator, url: str, params: Mapping[str, str], signature: str
) -> bool:
    """Whether ``signature`` is our token's over ``url`` and ``params``: first over the
    URL as it is (what Twilio signs: one HMAC, compared in constant time), else as the
    twilio library sees it (the URL with and without its port)."""
    computed = validator.compute_signature(url, params)
    if hmac.compare_digest(computed.encode(), signature.encode()):
        return True
    return bool(validator.validate(url, params, signature))
