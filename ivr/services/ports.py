"""The ports the use cases reach the world through. Small abstract classes: the demo
in-memory store implements them today, SQLAlchemy repositories and a real wallet backend
can implement them too. Tests fake them by subclassing."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime

ACTIVE, FROZEN, CLOSED = "active", "frozen", "closed"


@dataclass(frozen=True)
class Account:
    number: str
    holder_name: str
    phone: str  # E.164
    language: str
    status: str  # active | frozen | closed
    balance_minor: int
    currency: str


@dataclass(frozen=True)
class FailedPayment:
    amount_minor: int
    currency: str
    merchant: str
    at: datetime
    reason: str  # one of registry.FAILURE_REASONS


class Clock(abc.ABC):
    @abc.abstractmethod
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""


class Accounts(abc.ABC):
    """The wallet's core system as the hotline sees it."""

    @abc.abstractmethod
    def get(self, number: str) -> Account | None: ...

    @abc.abstractmethod
    def pin_matches(self, number: str, pin: str) -> bool:
        """Compare a PIN in constant time against the stored hash."""

    @abc.abstractmethod
    def latest_failed_payment(self, number: str) -> FailedPayment | None: ...

    @abc.abstractmethod
    def set_status(self, number: str, status: str) -> None: ...


class VerificationLog(abc.ABC):
    """Failed identity checks, for lockout across calls."""

    @abc.abstractmethod
    def record_failure(self, number: str, ani: str, at: datetime) -> None: ...

    @abc.abstractmethod
    def failures_since(self, number: str, since: datetime) -> list[datetime]: ...


class Requests(abc.ABC):
    """What the hotline records for the wallet: resets, closures, incidents, SMS."""

    @abc.abstractmethod
    def reset_code(self, number: str, code_hash: str, expires: datetime) -> None: ...

    @abc.abstractmethod
    def send_sms(self, to: str, text: str) -> None: ...

    @abc.abstractmethod
    def closure_confirmed(self, number: str, call_id: str) -> int:
        """Record one confirmation for this call; return how many this call has given."""

    @abc.abstractmethod
    def close(self, number: str, call_id: str) -> str:
        """Close the account; return the closure reference."""

    @abc.abstractmethod
    def open_incident(self, number: str, kind: str, call_id: str) -> str:
        """Open a security incident; return its reference."""
