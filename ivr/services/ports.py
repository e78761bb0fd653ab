"""The ports the use cases reach the world through: small abstract classes. SQLAlchemy
repositories implement them (``ivr.store``); a real wallet backend could implement
``Accounts`` instead. Tests fake them by subclassing.

A ``UnitOfWork`` is one transaction: a use case changes what it must, writes its audit
row, and commits; anything not committed is rolled back when the ``with`` block ends.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

from ivr.errors import IvrError
from ivr.services import contact_ports as cp
from ivr.services.call_record_ports import INTERRUPTED, CallRecord, CallRecords, RecordSpool
from ivr.services.complaint_ports import Complaints
from ivr.services.insight import InsightQueries

# The call records' value and ports live in ``call_record_ports``; named here too for the
# code that reaches every port through this module.
__all__ = [
    "ACTIVE", "CLOSED", "FROZEN", "INTERRUPTED", "Account", "Accounts", "AuditLog",
    "CallRecord", "CallRecords", "Clock", "FailedPayment", "PinChecker", "QueuedSms",
    "RecordSpool", "Requests", "SmsOutbox", "StoreBusy", "StoreLost", "Transaction",
    "UnitOfWork",
    "VerificationLog",
]  # fmt: skip

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


@dataclass(frozen=True)
class Transaction:
    """One of the account's transactions, as a caller hears it read back."""

    amount_minor: int
    currency: str
    merchant: str
    at: datetime
    status: str  # completed | failed | refunded | pending (what the wallet holds)


class Clock(abc.ABC):
    @abc.abstractmethod
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""


class Accounts(abc.ABC):
    """The wallet's core system as the hotline sees it."""

    @abc.abstractmethod
    def get(self, number: str) -> Account | None: ...

    @abc.abstractmethod
    def lock(self, number: str) -> Account | None:
        """``get``, with the account held until the unit of work ends: two checks of one
        account's PIN decide its lockout one after the other."""

    @abc.abstractmethod
    def pin_hash(self, number: str) -> str | None:
        """The stored form of the account's PIN (None: no such account). Compared by a
        ``PinChecker``, outside any unit of work."""

    @abc.abstractmethod
    def replace_pin_hash(self, number: str, old: str, new: str) -> None:
        """Store ``new`` if the stored form is still ``old`` (a legacy hash upgraded)."""

    @abc.abstractmethod
    def latest_failed_payment(self, number: str) -> FailedPayment | None: ...

    @abc.abstractmethod
    def recent_transactions(self, number: str, limit: int) -> list[Transaction]:
        """The account's latest ``limit`` transactions (any status), newest first."""

    @abc.abstractmethod
    def set_status(self, number: str, status: str) -> None: ...


class PinChecker(abc.ABC):
    """Compares a PIN with its stored form: slow on purpose (``ivr.services.pins``), so
    it runs with no unit of work open and no lock held."""

    @abc.abstractmethod
    def matches(self, pin: str, stored: str | None) -> bool:
        """Whether ``pin`` is the one ``stored`` was made from; None (no account) takes
        the same work and never matches."""

    @abc.abstractmethod
    def upgraded(self, pin: str, stored: str) -> str | None:
        """The form to store instead of ``stored`` now that ``pin`` matched it (a hash
        made before the pepper), else None."""


class VerificationLog(abc.ABC):
    """Identity checks, for lockout and throttling across calls. Never holds a PIN."""

    @abc.abstractmethod
    def record(self, number: str, ani: str, call_id: str, at: datetime, ok: bool) -> None: ...

    @abc.abstractmethod
    def failures_since(self, number: str, since: datetime) -> list[datetime]:
        """Failed checks of this account since then and after its latest success."""

    @abc.abstractmethod
    def accounts_failed_from(self, ani: str, since: datetime) -> set[str]:
        """Account numbers that failed a check from this caller number since then."""


class Requests(abc.ABC):
    """What the hotline records for the wallet: resets, closures, incidents, SMS."""

    @abc.abstractmethod
    def reset_code(self, number: str, code_hash: str, at: datetime, expires: datetime) -> None: ...

    @abc.abstractmethod
    def send_sms(self, to: str, body: str, at: datetime) -> None:
        """Queue an SMS in the outbox (a channel sends it)."""

    @abc.abstractmethod
    def closure_confirmations(self, number: str, call_id: str) -> int: ...

    @abc.abstractmethod
    def confirm_closure(self, number: str, call_id: str, at: datetime) -> int:
        """Record one confirmation in this call; return how many the call has given."""

    @abc.abstractmethod
    def close(self, number: str, call_id: str, at: datetime) -> str:
        """Mark the account closed; return the closure reference."""

    @abc.abstractmethod
    def open_incident(self, number: str, kind: str, call_id: str, at: datetime) -> str:
        """Open a security incident; return its reference."""


@dataclass(frozen=True)
class QueuedSms:
    id: int
    to: str
    body: str
    created_at: datetime


class SmsOutbox(abc.ABC):
    """The SMS outbox as its sender sees it: ``queued -> sending -> sent | failed |
    expired``, and ``queued -> expired``. A row is claimed (``queued -> sending``) in its
    own committed unit of work before it is sent, so two senders never send one row
    twice. A body holds a code: once a row is finished or expired only a redacted
    description of it is kept (``ivr.services.outbox.redacted``)."""

    @abc.abstractmethod
    def claim(self, limit: int, created_after: datetime) -> list[QueuedSms]:
        """Mark up to ``limit`` queued rows (oldest first) created after
        ``created_after`` ``sending``; return those this unit of work claimed (a row
        another sender claimed first is skipped)."""

    @abc.abstractmethod
    def finish(self, sms_id: int, status: str, at: datetime) -> None:
        """``sending -> sent`` (``at`` is when), ``failed`` or ``expired``; the body is
        redacted."""

    @abc.abstractmethod
    def expire(self, created_before: datetime) -> list[int]:
        """Rows created before then: queued ones become ``expired``; every one's body is
        redacted (a row left ``sending`` by a process that died, too). Returns the ids of
        the rows that expired."""


class AuditLog(abc.ABC):
    @abc.abstractmethod
    def record(
        self,
        at: datetime,
        call_id: str,
        account_number: str | None,
        action: str,
        detail: dict[str, Any],
        actor: str = "ivr",
    ) -> None:
        """``actor``: ``ivr`` (the hotline), ``agent:<username>`` or ``admin``."""

    def recorded(self, call_id: str, action: str, actor: str) -> bool:
        """Whether this actor's ``action`` on this call is in the log already (so a
        screen pop an agent's console refreshes is logged once, not at every refresh)."""
        return False

    def actions(self, call_id: str) -> list[str]:
        """The hotline's own (``ivr``) actions on this call, oldest first: what the
        screen pop says the IVR did (``ivr.services.call_story``)."""
        return []


class StoreBusy(IvrError):
    """The store had no connection free (on SQLite: no turn at writing) within its wait:
    the unit of work did nothing, and the same work may be tried again later."""


class StoreLost(IvrError):
    """The store's connection was lost, or could not be opened, or the server cut the
    statement short (restarted, the backend ended, a deadlock broken): the unit of work's
    transaction did not commit (or, lost during the commit itself, may have), and work that
    commits last as a compare-and-set may be tried again (``ivr.services.store_waits``)."""


class UnitOfWork(abc.ABC):
    accounts: Accounts
    verifications: VerificationLog
    requests: Requests
    audit: AuditLog
    calls: CallRecords
    outbox: SmsOutbox
    # the contact center (ivr.services.contact_ports)
    agents: cp.Agents
    queue: cp.QueueEntries
    callbacks: cp.Callbacks
    notes: cp.AgentNotes
    code_attempts: cp.CodeAttempts
    complaints: Complaints
    insight: InsightQueries  # the reports' figures (ivr.services.insight)

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.rollback()

    def one_statement(self) -> cp.OneStatementMoves | None:
        """The contact center's busiest moves, each one statement in a transaction of its
        own, where the store has them (PostgreSQL); None: the use case takes the unit of
        work's way (``with uow: ... uow.commit()``)."""
        return None

    def open_record_alone(self, record: CallRecord) -> bool:
        """Write an open call record the usual way (its first version, or one replacing
        an open row no newer) as one statement in a transaction of its own, where the
        store can; False when it did not (the store cannot, or the row needs the merge
        rule's other cases): then ``calls.save`` in a unit of work."""
        return False

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...
