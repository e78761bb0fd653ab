"""Checking an agent's password, against guessing: the sign-in form and the API's HTTP
Basic both come through ``authenticate``.

In order, and all before any password is hashed:

1. **Per client** (remote address): at most ``CLIENT_FAILURES`` failed sign-ins, counted
   by Flask-Limiter's storage (in memory, or ``IVR_RATELIMIT_STORAGE_URI`` such as
   ``redis://`` shared by several processes); then 429 with ``Retry-After``.
2. **Per username**: ``LOCKOUT`` failures since the last success lock the username, even
   for the right password. The failures are kept in the database (every process, every
   restart) and timed by the hotline's clock. An unknown username is counted and locked
   the same way, so the answers say nothing about which usernames exist.
3. **Bounded hashing**: a password check (scrypt) is CPU-heavy, so at most ``slots`` run at
   once; when all are busy the request is answered 503 with ``Retry-After`` at once rather
   than holding one of the server's threads in a queue."""

from __future__ import annotations

import math
import os
import threading
from datetime import datetime, timedelta

from flask import current_app, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse

from ivr.services.contact_agents import Agent
from ivr.services.lockout import Lockout
from ivr.web.context import center, hotline
from ivr.web.errors import WebError

EXTENSION = "ivr.sign_in_guard"
CLIENT_FAILURES = "20 per 10 minutes"
LOCKOUT_LIMIT = 5
LOCKOUT_MINUTES = 15
#: Password checks at once: half the cores, so the other half keeps serving the rest.
HASHING_SLOTS = max(1, (os.cpu_count() or 2) // 2)
BUSY_RETRY_SECONDS = 1


class SignInGuard:
    """Throttle, lockout and bounded hashing for one app (``app.extensions``)."""

    def __init__(self, limiter: Limiter, slots: int = HASHING_SLOTS) -> None:
        self.limiter = limiter
        self.rate: RateLimitItem = parse(CLIENT_FAILURES)
        minutes = timedelta(minutes=LOCKOUT_MINUTES)
        self.lockout = Lockout(limit=LOCKOUT_LIMIT, window=minutes, duration=minutes)
        self.slots = threading.BoundedSemaphore(slots)

    def authenticate(self, username: str, password: str) -> Agent | None:
        """The agent with this username and password, None if they do not match; raises
        ``WebError`` (429 or 503) when the check is refused before hashing."""
        client = request.remote_addr or "unknown"
        self._check_client(client)
        records = hotline().sign_in_records
        now = hotline().clock.now()
        failures = records.failures(username, now - self.lockout.lookback)
        if self.lockout.locked(failures, now):
            ends = max(failures) + self.lockout.duration
            raise WebError(
                429,
                "Too many failed sign-ins for this username. "
                f"Try again in {_minutes(ends, now)} minutes.",
                retry_after=_seconds(ends, now),
            )
        if not self.slots.acquire(blocking=False):
            raise WebError(
                503,
                "The server is busy checking other sign-ins; try again in a moment.",
                retry_after=BUSY_RETRY_SECONDS,
            )
        try:
            agent = center().authenticate(username, password)
        finally:
            self.slots.release()
        records.attempt(username, now, agent is not None, now - self.lockout.lookback)
        if agent is None:
            self.limiter.limiter.hit(self.rate, "sign-in-failures", client)
        return agent

    def _check_client(self, client: str) -> None:
        if self.limiter.limiter.test(self.rate, "sign-in-failures", client):
            return
        # The whole window, not the time left in it: that would need the library's own
        # (wall) clock, and the per-client counts are short-lived rates, not dates.
        raise WebError(
            429,
            "Too many failed sign-ins from this address; try again later.",
            retry_after=self.rate.get_expiry(),
        )


def guard() -> SignInGuard:
    found: SignInGuard = current_app.extensions[EXTENSION]
    return found


def _seconds(ends: datetime, now: datetime) -> int:
    return max(1, math.ceil((ends - now).total_seconds()))


def _minutes(ends: datetime, now: datetime) -> int:
    return max(1, math.ceil((ends - now).total_seconds() / 60))
