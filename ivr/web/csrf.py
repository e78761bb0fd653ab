"""One CSRF token per session. Every POST form carries it as ``csrf_token``; every mutating
``/api/`` request made with the session cookie carries it in the ``X-CSRF-Token`` header.
(API requests with HTTP Basic credentials need none: a browser does not add those to a
forged request unless it was once challenged for them, and the API never challenges a
request that did not send them.)"""

from __future__ import annotations

import hmac
import secrets

from flask import request, session

from ivr.web.errors import WebError

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token() -> str:
    """This session's token, made on first use."""
    value = session.get(FIELD)
    if not isinstance(value, str):
        value = secrets.token_urlsafe(32)
        session[FIELD] = value
    return value


def check(sent: str | None, where: str) -> None:
    """Refuse (403) unless ``sent`` is this session's token."""
    expected = session.get(FIELD)
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(sent, expected):
        raise WebError(403, f"missing or wrong CSRF token ({where}); reload the page", where)


def check_form() -> None:
    if request.method not in SAFE_METHODS:
        check(request.form.get(FIELD), FIELD)


def check_header() -> None:
    if request.method not in SAFE_METHODS:
        check(request.headers.get(HEADER), HEADER)
