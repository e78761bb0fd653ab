"""The ports the contact center's use cases reach storage through: agents, queue
entries, callbacks, agents' notes and callback codes typed. ``ivr.store`` implements them
with SQLAlchemy; tests fake them by subclassing.

The repositories do single, small things (read a row, lock a row, change a row); the
rules (who gets which caller, when a callback is retried) live in the desks
(``ivr.services.queue_desk``, ``agent_desk``, ``callback_desk``, ``callback_dialler``).
Every ``lock*`` method locks what it returns until the unit of work ends (PostgreSQL
``FOR UPDATE``; SQLite has one writer at a time anyway), and every change that races
another process is a compare-and-set: it names the state it expects and says whether
the row was still in it.

The values these ports trade in live in ``contact_entries``, ``contact_agents``,
``contact_callbacks`` and ``contact_snapshots``, the states in ``ivr.center.lifecycle``;
import each from there.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ivr.services.contact_agents import Agent, Note
from ivr.services.contact_callbacks import Callback
from ivr.services.contact_entries import Entry, WaitingCall

__all__ = [
    "AgentNotes", "Agents", "Callbacks", "CodeAttempts", "OfferMove", "OneStatementMoves",
    "QueueEntries", "TalkMove",
]  # fmt: skip


@dataclass(frozen=True)
class OfferMove:
    """What an offer changes, as ``ivr.center.lifecycle`` says: the entry from one of
    ``entry_from`` to ``entry_to``, its agent from one of ``agent_from`` to ``agent_to``."""

    entry_from: tuple[str, ...]
    entry_to: str
    agent_from: tuple[str, ...]
    agent_to: str


@dataclass(frozen=True)
class TalkMove:
    """What a trigger of the talk (``answer``, ``finish``) changes, as
    ``ivr.center.lifecycle`` says: the entry from one of ``entry_from`` to ``entry_to``;
    its agent, if in one of ``agent_from``, to ``agent_to``; its callback, if in one of
    ``callback_from``, to ``callback_to`` (none: the callback does not move)."""

    entry_from: tuple[str, ...]
    entry_to: str
    agent_from: tuple[str, ...]
    agent_to: str
    callback_from: tuple[str, ...] = ()
    callback_to: str | None = None


class OneStatementMoves(abc.ABC):
    """The moves an agent makes dozens of times a minute, each one statement and a
    transaction of its own (``UnitOfWork.one_statement``), the rows locked in the lock
    order (agent, entry, callback) and every change a compare-and-set on the states the
    move names. A move that finds its rows elsewhere changes nothing and says so: the use
    case then takes the unit of work's way, which knows every other case."""

    @abc.abstractmethod
    def claim(self, agent_id: int, now: datetime, move: OfferMove) -> tuple[Entry, Agent] | None:
        """``QueueEntries.offer_best`` for the agent, if free, with its ``queue_offered``
        audit row: the entry and the agent as they are now, or None (nothing changed)."""

    @abc.abstractmethod
    def answer(self, entry_id: int, now: datetime, move: TalkMove) -> bool:
        """The agent answered: the entry (if in one of ``move.entry_from`` and still
        offered to the agent, locked first) moved, answered at ``now``, its wait until
        then, no lease; its agent as ``move`` says. False: the entry was elsewhere,
        nothing changed."""

    @abc.abstractmethod
    def finish(self, entry_id: int, now: datetime, move: TalkMove, wrap_up_until: datetime) -> bool:
        """The talk is over: the entry (as for ``answer``) moved, ended at ``now`` with
        its talk time; its agent (to a wrap-up until ``wrap_up_until``) and its callback
        (used at ``now``) as ``move`` says. False: the entry was elsewhere, nothing
        changed."""


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
        pause_reason: str | None = None,
    ) -> bool:
        """Move the agent to ``state`` (``pause_reason`` is stored as given: None clears
        it); with ``expect``, only from one of those states. True if the row changed."""

    @abc.abstractmethod
    def edit(self, agent_id: int, values: Mapping[str, Any]) -> bool:
        """Change the agent's administrative fields (``EDITABLE_AGENT_FIELDS``: name,
        role, skills, languages, endpoint, password_hash, disabled_at); never their state.
        True if the agent exists."""

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


#: What ``Agents.edit`` may change.
EDITABLE_AGENT_FIELDS = frozenset(
    {"name", "role", "skills", "languages", "endpoint", "password_hash", "disabled_at"}
)


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
    def offer_best(
        self, agent: Agent, now: datetime, move: OfferMove
    ) -> tuple[Entry, Agent] | None:
        """Offer ``agent`` (locked by the caller) the best waiting, due, unexpired entry
        with one of their skills and languages whose lease (if any) has not run out
        (priority desc, enqueued_at asc, id asc; entries locked by others are skipped):
        both rows moved by ``move`` in one go, the agent only if free (available, or a
        wrap-up run out; not disabled), and the entry remembered as the agent's. The
        entry and the agent as they are now; None if nothing waits that the agent can
        take or the agent is not free (then the caller rolls back: nothing is kept)."""

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
