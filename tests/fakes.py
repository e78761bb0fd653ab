"""Hand-written fakes of the ports in ``ivr.services.ports`` (no mocks).

``FakeStore`` holds the data a database would: accounts (PINs in plain text, so thousands
of property-test calls stay fast), failed payments, verification attempts, reset codes,
the SMS outbox, closure requests, incidents, audit rows and call records.

``FakeUnitOfWork`` is one transaction over it, like ``ivr.store.unit_of_work.SqlUnitOfWork``: its
repositories read and write a private copy of the store's tables, so a unit of work sees
its own writes; ``commit()`` puts the copy in the store, ``rollback()`` throws it away.
The store keeps, per commit, the names of the writes it carried (``store.committed``)
and those rolled back (``store.discarded``), so a test can tell what committed together.

``store.fail("audit.record")`` makes that operation raise ``BackendDown`` (a
``ConnectionError``) from then on, to break a use case half-way; ``BrokenUnitOfWork``
fails at every operation.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any

from ivr.flow.engine import Engine
from ivr.flow.state import CallStart
from ivr.phone.session import CallSession
from ivr.phone.terminal import parse_keys
from ivr.services import ports
from ivr.services.demo import DEMO_ACCOUNTS
from ivr.services.usecases import UseCases

#: The server secret the use cases over the fake store key reset codes with.
SECRET = b"test-server-secret"


class PlainPins(ports.PinChecker):
    """Compares the fake store's plain-text PINs (``FakeAccounts.pin_hash``)."""

    def __init__(self) -> None:
        self.checked = 0

    def matches(self, pin: str, stored: str | None) -> bool:
        self.checked += 1
        return stored is not None and stored == pin

    def upgraded(self, pin: str, stored: str) -> str | None:
        return None


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


class BackendDown(ConnectionError):
    """What a store or wallet backend that went away raises."""


# -- rows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One identity check (``VerificationLog.record``): there is no PIN to keep."""

    account_number: str
    ani: str
    call_id: str
    at: datetime
    ok: bool


@dataclass(frozen=True)
class ResetCode:
    account_number: str
    code_hash: str
    at: datetime
    expires: datetime


@dataclass(frozen=True)
class Sms:
    to: str
    body: str
    at: datetime


@dataclass(frozen=True)
class Closure:
    """A closure request: the confirmations one call gave, and its closing."""

    account_number: str
    call_id: str
    confirmations: int
    created_at: datetime
    reference: str | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True)
class Incident:
    reference: str
    account_number: str
    kind: str
    call_id: str
    at: datetime


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    call_id: str
    account_number: str | None
    action: str
    detail: dict[str, Any]
    actor: str = "ivr"


# -- the store -------------------------------------------------------------------------------


@dataclass
class Tables:
    """The data. Rows are immutable, so a copy of the containers is a full copy."""

    accounts: dict[str, ports.Account] = field(default_factory=dict)
    pins: dict[str, str] = field(default_factory=dict)  # plain text: fakes only
    payments: dict[str, ports.FailedPayment] = field(default_factory=dict)
    transactions: dict[str, list[ports.Transaction]] = field(default_factory=dict)  # any order
    attempts: list[Attempt] = field(default_factory=list)
    resets: list[ResetCode] = field(default_factory=list)
    outbox: list[Sms] = field(default_factory=list)
    closures: dict[tuple[str, str], Closure] = field(default_factory=dict)  # (number, call)
    incidents: list[Incident] = field(default_factory=list)
    audit: list[AuditRow] = field(default_factory=list)
    calls: list[ports.CallRecord] = field(default_factory=list)
    live_calls: set[str] = field(default_factory=set)  # with an active queue entry

    def snapshot(self) -> Tables:
        return Tables(**{f.name: copy.copy(getattr(self, f.name)) for f in fields(Tables)})


#: Every operation a unit of work offers, as ``store.fail`` names them.
OPERATIONS = (
    "accounts.get",
    "accounts.lock",
    "accounts.pin_hash",
    "accounts.replace_pin_hash",
    "accounts.latest_failed_payment",
    "accounts.recent_transactions",
    "accounts.set_status",
    "verifications.record",
    "verifications.failures_since",
    "verifications.accounts_failed_from",
    "requests.reset_code",
    "requests.send_sms",
    "requests.closure_confirmations",
    "requests.confirm_closure",
    "requests.close",
    "requests.open_incident",
    "audit.record",
    "calls.save",
    "calls.close_interrupted",
    "commit",
)
#: What the use cases need: all but the call records (and commit).
WALLET_OPERATIONS = tuple(
    op for op in OPERATIONS if op not in ("calls.save", "calls.close_interrupted", "commit")
)


class FakeStore(Tables):
    """The committed data, and what happened to it."""

    def __init__(self) -> None:
        super().__init__()
        self.commits = 0
        self.committed: list[tuple[str, ...]] = []  # the writes of each commit, in order
        self.discarded: list[tuple[str, ...]] = []  # the writes of each rollback
        self.opened = 0  # units of work
        self.failing: set[str] = set()
        self._serial = itertools.count(1)  # like a database sequence: never rolled back

    @classmethod
    def with_demo_accounts(cls) -> FakeStore:
        """The accounts of ``ivr.services.demo``, with the same PINs and stories."""
        store = cls()
        for demo in DEMO_ACCOUNTS:
            account = ports.Account(
                demo.number,
                demo.holder_name,
                demo.phone,
                demo.language,
                demo.status,
                demo.balance_minor,
                demo.currency,
            )
            payment = None
            history = [
                ports.Transaction(amount, demo.currency, merchant, at, status)
                for amount, merchant, at, status in demo.more_transactions
            ]
            if demo.failed_payment:  # as ``ivr.store.seed`` writes it
                amount, merchant, at, reason = demo.failed_payment
                payment = ports.FailedPayment(amount, demo.currency, merchant, at, reason)
                history.append(ports.Transaction(amount, demo.currency, merchant, at, "failed"))
                history += [
                    ports.Transaction(
                        amount // (i + 2),
                        demo.currency,
                        merchant,
                        at - timedelta(days=3 * (i + 1)),
                        "completed",
                    )
                    for i in range(2)
                ]
            store.add(account, demo.pin, payment)
            store.transactions[demo.number] = history
        return store

    def add(
        self, account: ports.Account, pin: str, payment: ports.FailedPayment | None = None
    ) -> None:
        self.accounts[account.number] = account
        self.pins[account.number] = pin
        if payment is not None:
            self.payments[account.number] = payment

    def unit_of_work(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    def fail(self, *operations: str) -> None:
        """From now on these operations raise ``BackendDown``."""
        unknown = set(operations) - set(OPERATIONS)
        if unknown:
            raise ValueError(f"no such operations: {sorted(unknown)}")
        self.failing.update(operations)

    def check(self, operation: str) -> None:
        if operation in self.failing:
            raise BackendDown(f"{operation}: store unreachable")

    def reference(self, prefix: str = "") -> str:
        return f"{prefix}{50_000_000 + next(self._serial):08d}"

    def restore(self, tables: Tables) -> None:
        for f in fields(Tables):
            setattr(self, f.name, copy.copy(getattr(tables, f.name)))

    def actions(self) -> list[str]:
        """The audit log's actions, oldest first."""
        return [row.action for row in self.audit]

    def rows(self) -> Iterator[object]:
        """Every row the hotline wrote (not the accounts, which hold the PINs)."""
        yield from self.attempts
        yield from self.resets
        yield from self.outbox
        yield from self.closures.values()
        yield from self.incidents
        yield from self.audit
        yield from self.calls


# -- the unit of work and its repositories ------------------------------------------------------


class FakeUnitOfWork(ports.UnitOfWork):
    """One transaction on a ``FakeStore``. Units of work run one after another, as the use
    cases run them: committing over another unit's commit is a test mistake, and raises."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        store.opened += 1
        self.commits = 0
        self.rollbacks = 0
        self.writes: list[str] = []
        self._begin()
        self.accounts = FakeAccounts(self)
        self.verifications = FakeVerificationLog(self)
        self.requests = FakeRequests(self)
        self.audit = FakeAuditLog(self)
        self.calls = FakeCallRecords(self)

    def _begin(self) -> None:
        self.data = self.store.snapshot()
        self._base = self.store.commits

    @property
    def committed(self) -> bool:
        return self.commits > 0

    def check(self, operation: str) -> None:
        self.store.check(operation)

    def wrote(self, operation: str) -> None:
        self.check(operation)
        self.writes.append(operation)

    def commit(self) -> None:
        self.check("commit")
        if self.store.commits != self._base:
            raise AssertionError("another unit of work committed while this one was open")
        self.store.restore(self.data)
        self.store.commits += 1
        self.store.committed.append(tuple(self.writes))
        self.commits += 1
        self.writes = []
        self._begin()

    def rollback(self) -> None:
        self.rollbacks += 1
        if self.writes:
            self.store.discarded.append(tuple(self.writes))
        self.writes = []
        self._begin()


class BrokenUnitOfWork(FakeUnitOfWork):
    """A unit of work whose database went away: every operation raises ``BackendDown``."""

    def check(self, operation: str) -> None:
        raise BackendDown(f"{operation}: store unreachable")


class _Repository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    @property
    def data(self) -> Tables:
        return self.uow.data


class FakeAccounts(_Repository, ports.Accounts):
    def get(self, number: str) -> ports.Account | None:
        self.uow.check("accounts.get")
        return self.data.accounts.get(number)

    def lock(self, number: str) -> ports.Account | None:
        self.uow.check("accounts.lock")
        return self.data.accounts.get(number)

    def pin_hash(self, number: str) -> str | None:
        self.uow.check("accounts.pin_hash")
        return self.data.pins.get(number)  # the plain PIN: ``PlainPins`` compares it

    def replace_pin_hash(self, number: str, old: str, new: str) -> None:
        self.uow.wrote("accounts.replace_pin_hash")
        if self.data.pins.get(number) == old:
            self.data.pins[number] = new

    def latest_failed_payment(self, number: str) -> ports.FailedPayment | None:
        self.uow.check("accounts.latest_failed_payment")
        return self.data.payments.get(number)

    def recent_transactions(self, number: str, limit: int) -> list[ports.Transaction]:
        self.uow.check("accounts.recent_transactions")
        newest = sorted(self.data.transactions.get(number, ()), key=lambda t: t.at, reverse=True)
        return newest[:limit]

    def set_status(self, number: str, status: str) -> None:
        self.uow.wrote("accounts.set_status")
        if number in self.data.accounts:  # like an UPDATE that matches no row
            self.data.accounts[number] = replace(self.data.accounts[number], status=status)


class FakeVerificationLog(_Repository, ports.VerificationLog):
    def record(self, number: str, ani: str, call_id: str, at: datetime, ok: bool) -> None:
        self.uow.wrote("verifications.record")
        self.data.attempts.append(Attempt(number, ani, call_id, at, ok))

    def failures_since(self, number: str, since: datetime) -> list[datetime]:
        self.uow.check("verifications.failures_since")
        mine = [a for a in self.data.attempts if a.account_number == number]
        successes = [a.at for a in mine if a.ok]
        after = max(successes) if successes else None
        return [
            a.at for a in mine if not a.ok and a.at >= since and (after is None or a.at > after)
        ]

    def accounts_failed_from(self, ani: str, since: datetime) -> set[str]:
        self.uow.check("verifications.accounts_failed_from")
        return {
            a.account_number
            for a in self.data.attempts
            if a.ani == ani and not a.ok and a.at >= since
        }


class FakeRequests(_Repository, ports.Requests):
    def reset_code(self, number: str, code_hash: str, at: datetime, expires: datetime) -> None:
        self.uow.wrote("requests.reset_code")
        self.data.resets.append(ResetCode(number, code_hash, at, expires))

    def send_sms(self, to: str, body: str, at: datetime) -> None:
        self.uow.wrote("requests.send_sms")
        self.data.outbox.append(Sms(to, body, at))

    def closure_confirmations(self, number: str, call_id: str) -> int:
        self.uow.check("requests.closure_confirmations")
        closure = self.data.closures.get((number, call_id))
        return 0 if closure is None else closure.confirmations

    def confirm_closure(self, number: str, call_id: str, at: datetime) -> int:
        self.uow.wrote("requests.confirm_closure")
        key = (number, call_id)
        closure = self.data.closures.get(key) or Closure(number, call_id, 0, at)
        self.data.closures[key] = replace(closure, confirmations=closure.confirmations + 1)
        return self.data.closures[key].confirmations

    def close(self, number: str, call_id: str, at: datetime) -> str:
        self.uow.wrote("requests.close")
        key = (number, call_id)
        if key not in self.data.closures:
            raise LookupError("no closure request for this call")
        reference = self.uow.store.reference("CL")
        self.data.closures[key] = replace(
            self.data.closures[key], reference=reference, closed_at=at
        )
        return reference

    def open_incident(self, number: str, kind: str, call_id: str, at: datetime) -> str:
        self.uow.wrote("requests.open_incident")
        reference = self.uow.store.reference()
        self.data.incidents.append(Incident(reference, number, kind, call_id, at))
        return reference


class FakeAuditLog(_Repository, ports.AuditLog):
    def record(
        self,
        at: datetime,
        call_id: str,
        account_number: str | None,
        action: str,
        detail: dict[str, Any],
        actor: str = "ivr",
    ) -> None:
        self.uow.wrote("audit.record")
        self.data.audit.append(AuditRow(at, call_id, account_number, action, dict(detail), actor))

    def actions(self, call_id: str) -> list[str]:
        return [r.action for r in self.data.audit if r.call_id == call_id and r.actor == "ivr"]


class FakeCallRecords(_Repository, ports.CallRecords):
    """One record per call in ``calls``, merged as ``ports.CallRecords`` says; the calls
    in ``live_calls`` have an active queue entry."""

    def save(self, record: ports.CallRecord) -> None:
        self.uow.wrote("calls.save")
        calls = self.data.calls
        index = next((i for i, r in enumerate(calls) if r.call_id == record.call_id), None)
        if index is None:
            calls.append(record)
            return
        row = calls[index]
        replaceable = row.open or row.outcome == ports.INTERRUPTED
        if record.open:
            replaceable = replaceable and row.last_seen <= record.last_seen
        if replaceable:
            calls[index] = record

    def close_interrupted(self, seen_before: datetime, limit: int) -> list[str]:
        self.uow.wrote("calls.close_interrupted")
        calls, closed = self.data.calls, []
        for index, row in enumerate(calls):
            stale = row.open and row.last_seen < seen_before
            if stale and row.call_id not in self.data.live_calls and len(closed) < limit:
                calls[index] = replace(
                    row, outcome=ports.INTERRUPTED, ended_at=row.last_seen, seen_at=None
                )
                closed.append(row.call_id)
        return closed


# -- a driver ----------------------------------------------------------------------------------


class Dialer:
    """A test driver: dials calls into an engine with the given use cases; a call starts at
    the clock's time unless told otherwise."""

    def __init__(
        self, engine: Engine, use_cases: UseCases, clock: ports.Clock, channel: str = "console"
    ) -> None:
        self.engine = engine
        self.use_cases = use_cases
        self.clock = clock
        self.channel = channel
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
        return CallSession(self.engine, self.use_cases, call, self.channel, self.clock)

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


class FakeSpool(ports.RecordSpool):
    """A spool in memory: the newest version of each call's record; ``broken`` makes
    ``keep`` fail like a full disk."""

    def __init__(self) -> None:
        self.kept: dict[str, ports.CallRecord] = {}
        self.broken = False

    def keep(self, record: ports.CallRecord) -> None:
        if self.broken:
            raise OSError(28, "No space left on device")
        self.kept[record.call_id] = record

    def claim(self, limit: int) -> list[tuple[str, ports.CallRecord]]:
        return list(self.kept.items())[:limit]

    def forget(self, token: str) -> None:
        self.kept.pop(token, None)

    def release(self, token: str) -> None:
        pass  # claiming leaves the record kept
