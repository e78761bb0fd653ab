"""The queue's values: a live caller asking for a person (``WaitingCall``), the queue
entry it becomes (``Entry``), and a refusal a person can cause (``Refused``). Frozen
dataclasses; the states they hold are ``ivr.center.lifecycle``'s."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ivr.services.caller_numbers import e164


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
class Refused:
    reason: str  # e.g. "callback already dialled"
