"""Hand-written fakes of the ports in ``ivr.services.ports``.

``FakeWallet`` keeps PINs in plain text (no PBKDF2), so thousands of property-test calls
stay fast; everything else behaves like the demo ``MemoryWallet``.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta

from ivr.calls.session import CallSession
from ivr.channels.console import parse_keys
from ivr.flow.engine import Engine
from ivr.flow.state import CallStart
from ivr.services import ports
from ivr.services.demo import DEMO_ACCOUNTS
from ivr.services.usecases import UseCases


class FixedClock(ports.Clock):
    """A clock that only moves when a test moves it."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware time")
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class FakeWallet(ports.Accounts, ports.VerificationLog, ports.Requests):
    """Accounts, failed payments and every request, in plain dictionaries and lists."""

    def __init__(self) -> None:
        self.accounts: dict[str, ports.Account] = {}
        self.pins: dict[str, str] = {}
        self.payments: dict[str, ports.FailedPayment] = {}
        self.failures: list[tuple[str, str, datetime]] = []
        self.reset_codes: dict[str, tuple[str, datetime]] = {}
        self.outbox: list[tuple[str, str]] = []
        self.confirmations: dict[tuple[str, str], int] = defaultdict(int)
        self.closures: dict[str, tuple[str, str]] = {}  # number -> (reference, call_id)
        self.incidents: list[tuple[str, str, str, str]] = []  # (ref, number, kind, call_id)
        self._serial = itertools.count(1)

    @classmethod
    def with_demo_accounts(cls) -> FakeWallet:
        """The accounts of ``ivr.services.demo``, with the same PINs and stories."""
        wallet = cls()
        for demo in DEMO_ACCOUNTS:
            account = ports.Account(
                demo.number, demo.holder_name, demo.phone, demo.language, demo.status,
                demo.balance_minor, demo.currency,
            )
            payment = None
            if demo.failed_payment:
                amount, merchant, at, reason = demo.failed_payment
                payment = ports.FailedPayment(amount, demo.currency, merchant, at, reason)
            wallet.add(account, demo.pin, payment)
        return wallet

    def add(
        self, account: ports.Account, pin: str, payment: ports.FailedPayment | None = None
    ) -> None:
        self.accounts[account.number] = account
        self.pins[account.number] = pin
        if payment is not None:
            self.payments[account.number] = payment

    # Accounts
    def get(self, number: str) -> ports.Account | None:
        return self.accounts.get(number)

    def pin_matches(self, number: str, pin: str) -> bool:
        return number in self.pins and self.pins[number] == pin

    def latest_failed_payment(self, number: str) -> ports.FailedPayment | None:
        return self.payments.get(number)

    def set_status(self, number: str, status: str) -> None:
        self.accounts[number] = replace(self.accounts[number], status=status)

    # VerificationLog
    def record_failure(self, number: str, ani: str, at: datetime) -> None:
        self.failures.append((number, ani, at))

    def failures_since(self, number: str, since: datetime) -> list[datetime]:
        return [at for n, _, at in self.failures if n == number and at >= since]

    # Requests
    def reset_code(self, number: str, code_hash: str, expires: datetime) -> None:
        self.reset_codes[number] = (code_hash, expires)

    def send_sms(self, to: str, text: str) -> None:
        self.outbox.append((to, text))

    def closure_confirmed(self, number: str, call_id: str) -> int:
        self.confirmations[(number, call_id)] += 1
        return self.confirmations[(number, call_id)]

    def close(self, number: str, call_id: str) -> str:
        self.set_status(number, ports.CLOSED)
        reference = f"{next(self._serial) + 70_000_000:08d}"
        self.closures[number] = (reference, call_id)
        return reference

    def open_incident(self, number: str, kind: str, call_id: str) -> str:
        reference = f"{next(self._serial) + 50_000:06d}"
        self.incidents.append((reference, number, kind, call_id))
        return reference


class BackendDown(ConnectionError):
    """What a wallet backend that went away raises."""


class BrokenWallet(FakeWallet):
    """A wallet whose backend fails once a use case gets past finding the account."""

    def pin_matches(self, number: str, pin: str) -> bool:
        raise BackendDown("wallet core system unreachable")

    def latest_failed_payment(self, number: str) -> ports.FailedPayment | None:
        raise BackendDown("wallet core system unreachable")

    def set_status(self, number: str, status: str) -> None:
        raise BackendDown("wallet core system unreachable")

    def send_sms(self, to: str, text: str) -> None:
        raise BackendDown("SMS gateway unreachable")


class Dialer:
    """A test driver: dials calls into an engine with the given use cases; a call starts at
    the clock's time unless told otherwise."""

    def __init__(self, engine: Engine, use_cases: UseCases, clock: ports.Clock) -> None:
        self.engine = engine
        self.use_cases = use_cases
        self.clock = clock
        self._serial = itertools.count(1)

    def session(
        self,
        *,
        ani: str = "+8613800138001",
        language: str | None = None,
        at: datetime | None = None,
        call_id: str | None = None,
    ) -> CallSession:
        started = (at or self.clock.now()).timestamp()
        call = CallStart(
            call_id=call_id or f"test-call-{next(self._serial)}",
            ani=ani,
            dnid="95188",
            language=language,
            started_at=started,
        )
        return CallSession(self.engine, self.use_cases, call)

    def call(
        self,
        keys: str,
        *,
        ani: str = "+8613800138001",
        language: str | None = None,
        at: datetime | None = None,
        call_id: str | None = None,
    ) -> CallSession:
        """Start a call and answer with ``keys`` (terminal-phone syntax: ``t`` silence,
        ``h`` hang up) until the call ends or the keys run out."""
        session = self.session(ani=ani, language=language, at=at, call_id=call_id)
        session.start()
        for event in parse_keys(keys):
            if session.ended:
                break
            session.answer(event)
        return session
