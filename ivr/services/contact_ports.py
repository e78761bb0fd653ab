"""The contact center's words (queue entries, agents, callbacks, notes) as frozen
dataclasses, and the ports the ``ContactCenter`` reaches storage through.

The repositories do single, small things (read a row, lock a row, change a row); the
rules (who gets which caller, when a callback is retried) live in
``ivr.services.contact_center``. Every ``lock*`` method locks what it returns until the
unit of work ends (PostgreSQL ``FOR UPDATE``; SQLite has one writer at a time anyway),
and every change that races another process is a compare-and-set: it names the state
it expects and says whether the row was still in it.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# The states (the strings the database holds) live with their transition table in
# ``ivr.center.lifecycle``; they are re-exported here for the services and the store.
from ivr.center.lifecycle import (
    ABANDONED,
    ACTIVE_CALLBACK_STATES,
    ACTIVE_ENTRY_STATES,
    AVAILABLE,
    CALL,
    CB_CANCELLED,
    CB_CONNECTED,
    CB_DIALING,
    CB_DONE,
    CB_EXPIRED,
    CB_FAILED,
    CB_WAITING,
    CONNECTED,
    DONE,
    ENDED_ENTRY_STATES,
    EXPIRED,
    FAILED,
    MISSED,
    OFFERED,
    OFFLINE,
    ON_CALL,
    RESUMED,
    RINGING,
    WAITING,
    WRAP_UP,
)
from ivr.center.lifecycle import KIND_CALLBACK as CALLBACK
from ivr.services.caller_numbers import e164

__all__ = [
    "ABANDONED", "ACTIVE_CALLBACK_STATES", "ACTIVE_ENTRY_STATES", "AVAILABLE", "CALL",
    "CALLBACK", "CB_CANCELLED", "CB_CONNECTED", "CB_DIALING", "CB_DONE", "CB_EXPIRED",
    "CB_FAILED", "CB_WAITING", "CONNECTED", "DONE", "ENDED_ENTRY_STATES", "EXPIRED",
    "FAILED", "MISSED", "OFFERED", "OFFLINE", "ON_CALL", "RESUMED", "RINGING", "WAITING",
    "WRAP_UP",
]  # fmt: skip

# Roles.
AGENT, SUPERVISOR = "agent", "supervisor"

DISPOSITIONS = ("resolved", "follow_up", "escalated", "wrong_number", "other")


@dataclass(frozen=True)
class WaitingCall:
    """A live caller asking for a person (what a driver enqueues)."""

    call_id: str
    queue: str
    priority: int
    skill: str
    language: str
    caller_id: str
    account_number: str | None  # verified only
    reason: str | None
    path: tuple[str, ...]
    resume_entry: int | None = None  # from a resumed callback: take over that place


@dataclass(frozen=True)
class Entry:
    id: int
    kind: str  # call | callback
    call_id: str
    queue: str
    priority: int
    skill: str
    language: str
    caller_id: str
    account_number: str | None
    reason: str | None
    path: tuple[str, ...]
    enqueued_at: datetime
    state: str
    agent_id: int | None
    callback_id: int | None
    not_before: datetime | None
    wait_seconds: int | None
    talk_seconds: int | None
    ended_at: datetime | None = None
    answered_at: datetime | None = None
    expires_at: datetime | None = None  # callbacks: never dialled after this
    #: The holder's lease: past it, the reaper ends the entry as abandoned (None: no
    #: holder to renew it: callbacks, talks). ``held_by`` says who holds it.
    lease_until: datetime | None = None
    held_by: str | None = None
    offered_at: datetime | None = None  # when the current offer was made (ring timeout)

    @property
    def caller_number(self) -> str | None:
        """The E.164 number in ``caller_id`` (what the network sent), if it has one."""
        return e164(self.caller_id)

    def sort_key(self) -> tuple[int, datetime, int]:
        """The dispatch order: priority desc, enqueued_at asc, id asc."""
        return (-self.priority, self.enqueued_at, self.id)


@dataclass(frozen=True)
class Agent:
    id: int
    username: str
    name: str
    role: str  # agent | supervisor
    skills: frozenset[str]
    languages: frozenset[str]
    endpoint: str
    state: str
    state_since: datetime
    wrap_up_until: datetime | None
    #: The entry the agent was last offered: the desk follows it.
    entry_id: int | None = None

    def can_take(self, skill: str, language: str) -> bool:
        return skill in self.skills and language in self.languages

    def free_at(self, now: datetime) -> bool:
        """Available, or in a wrap-up that has run out (which counts as available)."""
        if self.state == AVAILABLE:
            return True
        return (
            self.state == WRAP_UP and self.wrap_up_until is not None and self.wrap_up_until <= now
        )


@dataclass(frozen=True)
class Place:
    entry: Entry
    position: int
    estimate_seconds: int
    agent: Agent | None  # set when the entry is offered (the agent to dial)
    staffed: int = 1  # agents signed in with the entry's skill and language


@dataclass(frozen=True)
class Assignment:
    entry: Entry
    agent: Agent


@dataclass(frozen=True)
class Callback:
    id: int
    entry_id: int
    number: str
    reason: str | None
    language: str
    account_number: str | None
    queue: str
    created_at: datetime
    expires_at: datetime
    attempts: int
    max_attempts: int
    state: str
    last_attempt_at: datetime | None
    used_at: datetime | None = None
    #: The call that reached the customer, once they answered (its record's call id).
    call_id: str | None = None


@dataclass(frozen=True)
class Note:
    at: datetime
    agent_name: str
    call_id: str
    disposition: str
    text: str
    account_number: str | None = None


@dataclass(frozen=True)
class Desk:
    """The screen pop: the agent, the entry they are on, and notes from earlier calls."""

    agent: Agent
    entry: Entry | None
    callback: Callback | None
    notes: list[Note]


@dataclass(frozen=True)
class Refused:
    reason: str  # e.g. "callback already dialled"


@dataclass(frozen=True)
class ResumeResult:
    outcome: str  # ok | wrong | used | expired | locked
    callback: Callback | None
    entry: Entry | None


@dataclass(frozen=True)
class QueueStats:
    queue: str
    waiting: int
    longest_wait_seconds: int
    aht_seconds: int
    handled_today: int
    abandoned_today: int
    callbacks_pending: int


# -- ports -------------------------------------------------------------------------------------


class Agents(abc.ABC):
    @abc.abstractmethod
    def get(self, agent_id: int) -> Agent | None: ...

    @abc.abstractmethod
    def by_username(self, username: str) -> tuple[Agent, str] | None:
        """The agent and their password hash."""

    @abc.abstractmethod
    def all(self) -> list[Agent]:
        """Every agent, by username."""

    @abc.abstractmethod
    def lock_free(self, now: datetime, exclude: frozenset[int], limit: int) -> list[Agent]:
        """Up to ``limit`` free agents (available, or wrap-up over) not in ``exclude``,
        longest idle first, locked; agents another transaction holds are skipped."""

    @abc.abstractmethod
    def lock(self, agent_id: int, skip_locked: bool = False) -> Agent | None:
        """The agent, locked (waits for another transaction holding it; with
        ``skip_locked``, None instead of waiting)."""

    @abc.abstractmethod
    def take(self, agent_id: int, now: datetime, entry_id: int | None = None) -> bool:
        """Compare-and-set: a free agent (see ``Agent.free_at``) starts ringing, for
        ``entry_id`` (which their desk then follows)."""

    @abc.abstractmethod
    def set_state(
        self,
        agent_id: int,
        state: str,
        since: datetime,
        wrap_up_until: datetime | None = None,
        expect: tuple[str, ...] | None = None,
    ) -> bool:
        """Move the agent to ``state``; with ``expect``, only from one of those states.
        True if the row changed."""

    @abc.abstractmethod
    def add(
        self,
        username: str,
        name: str,
        password_hash: str,
        role: str,
        skills: frozenset[str],
        languages: frozenset[str],
        endpoint: str,
        now: datetime,
    ) -> Agent: ...


class QueueEntries(abc.ABC):
    @abc.abstractmethod
    def add(
        self,
        call: WaitingCall,
        now: datetime,
        lease_until: datetime | None = None,
        held_by: str | None = None,
    ) -> Entry: ...

    @abc.abstractmethod
    def renew(self, entry_id: int, until: datetime) -> bool:
        """Compare-and-set: a held entry with a lease (see ``lifecycle.HELD``) gets
        ``lease_until = until``, unless it is later already (never shortened); True if the
        entry is still held."""

    @abc.abstractmethod
    def lock_lapsed(self, states: tuple[str, ...], now: datetime, limit: int) -> list[Entry]:
        """Entries in one of ``states`` whose lease ran out before ``now``, oldest lease
        first, locked; locked entries are skipped."""

    @abc.abstractmethod
    def lock_rung_out(self, before: datetime, limit: int) -> list[Entry]:
        """Offered live calls (not callbacks) whose offer was made at or before
        ``before``, locked; locked entries are skipped."""

    @abc.abstractmethod
    def reaper_lock(self) -> bool:
        """Whether this transaction may reap (PostgreSQL: one reaper at a time, released
        at the end of the transaction; SQLite: the writer lock already serialises)."""

    @abc.abstractmethod
    def get(self, entry_id: int) -> Entry | None: ...

    @abc.abstractmethod
    def lock(self, entry_id: int) -> Entry | None: ...

    @abc.abstractmethod
    def lock_best(
        self, skills: frozenset[str], languages: frozenset[str], now: datetime
    ) -> Entry | None:
        """The best waiting, due, unexpired entry with one of these skills and languages
        whose lease (if any) has not run out (priority desc, enqueued_at asc, id asc),
        locked; locked entries are skipped."""

    @abc.abstractmethod
    def change(self, entry_id: int, expect: tuple[str, ...] | None = None, **values: Any) -> bool:
        """Set columns of one entry (only if its state is one of ``expect``, when given);
        True if the row changed."""

    @abc.abstractmethod
    def active(self) -> list[Entry]:
        """Waiting and offered entries, in dispatch order."""

    @abc.abstractmethod
    def ahead_of(self, entry: Entry, now: datetime) -> int:
        """Due waiting entries of the same queue ahead of ``entry`` in dispatch order."""

    @abc.abstractmethod
    def offered_callbacks(self) -> list[Entry]:
        """Callback entries offered to an agent, in dispatch order."""

    @abc.abstractmethod
    def talk_times(self, queue: str, since: datetime, limit: int) -> list[int]:
        """talk_seconds of the newest ``done`` entries of the queue ended since then."""

    @abc.abstractmethod
    def ended_since(self, since: datetime) -> list[Entry]:
        """Entries that ended (done, abandoned, failed, expired) since then."""

    @abc.abstractmethod
    def expire_callbacks(self, now: datetime) -> list[int]:
        """Waiting callback entries past expires_at become ``expired``; their callback ids."""


class Callbacks(abc.ABC):
    @abc.abstractmethod
    def add(
        self,
        entry: Entry,
        number: str,
        code_salt: str,
        code_hash: str,
        now: datetime,
        expires_at: datetime,
        max_attempts: int,
    ) -> Callback: ...

    @abc.abstractmethod
    def get(self, callback_id: int) -> Callback | None: ...

    @abc.abstractmethod
    def lock(self, callback_id: int) -> Callback | None: ...

    @abc.abstractmethod
    def salt(self, callback_id: int) -> str | None: ...

    @abc.abstractmethod
    def code_in_use(self, code_hash: str) -> bool:
        """An active callback has this code."""

    @abc.abstractmethod
    def by_code(self, code_hash: str) -> Callback | None:
        """The active callback with this code, else the newest one that had it."""

    @abc.abstractmethod
    def change(
        self, callback_id: int, expect: tuple[str, ...] | None = None, **values: Any
    ) -> bool:
        """Like ``QueueEntries.change``."""

    @abc.abstractmethod
    def recent(self, limit: int) -> list[Callback]:
        """Active callbacks first (oldest first), then the newest ended ones."""

    @abc.abstractmethod
    def pending_by_queue(self) -> dict[str, int]: ...


class AgentNotes(abc.ABC):
    @abc.abstractmethod
    def add(self, agent_id: int, entry: Entry, disposition: str, text: str, at: datetime) -> Note:
        """A note on the call ``entry`` (its call id, caller and verified account)."""

    @abc.abstractmethod
    def about(self, account_number: str | None, caller_id: str, limit: int) -> list[Note]:
        """Newest first: notes on this account, or (unverified) on calls from this number."""

    @abc.abstractmethod
    def for_entry(self, entry_id: int) -> Note | None: ...


class CodeAttempts(abc.ABC):
    """Callback reference codes typed, for lockout per caller number. Never holds a code."""

    @abc.abstractmethod
    def record(self, caller_id: str, call_id: str, at: datetime, ok: bool) -> None: ...

    @abc.abstractmethod
    def failures_since(self, caller_id: str, since: datetime) -> list[datetime]:
        """Wrong codes from this number since then and after its latest good one."""
