"""Complaints as the use cases see them: the value, its states, and the port that keeps
them with the audit of every change (``ivr.store.complaint_repositories`` is the SQL
adapter). A complaint moves ``open -> acknowledged -> resolved`` (or straight from open
to resolved); assigning and noting change no state, and every change is an event."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime

OPEN, ACKNOWLEDGED, RESOLVED = "open", "acknowledged", "resolved"
STATES = (OPEN, ACKNOWLEDGED, RESOLVED)
#: Not yet resolved: a caller is told about these, a supervisor works on them.
UNRESOLVED = (OPEN, ACKNOWLEDGED)


@dataclass(frozen=True)
class NewComplaint:
    reference: str
    account_number: str
    caller: str  # the caller number (E.164, or as the network sent it)
    category: str
    call_id: str
    recording_id: str | None
    created_at: datetime
    acknowledge_by: datetime
    resolve_by: datetime


@dataclass(frozen=True)
class Complaint:
    id: int
    reference: str
    account_number: str
    caller: str
    category: str
    state: str  # one of STATES
    call_id: str
    recording_id: str | None
    assigned_to: str | None  # an agent's username
    created_at: datetime
    acknowledge_by: datetime
    resolve_by: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None

    def overdue(self, now: datetime) -> bool:
        """Past the deadline of the step it is waiting for."""
        if self.state == OPEN:
            return now > self.acknowledge_by
        return self.state == ACKNOWLEDGED and now > self.resolve_by

    def due(self) -> datetime:
        """The deadline of the step it is waiting for (resolved: its resolve-by)."""
        return self.acknowledge_by if self.state == OPEN else self.resolve_by


@dataclass(frozen=True)
class ComplaintEvent:
    complaint_id: int
    at: datetime
    actor: str  # ``ivr`` (the hotline) or ``agent:<username>``
    action: str  # opened | assigned | noted | acknowledged | resolved
    note: str


class Complaints(abc.ABC):
    """The complaints and their events, in the unit of work's transaction."""

    @abc.abstractmethod
    def reference_taken(self, reference: str) -> bool: ...

    @abc.abstractmethod
    def add(self, complaint: NewComplaint) -> int:
        """Store a new ``open`` complaint; return its id."""

    @abc.abstractmethod
    def get(self, complaint_id: int, lock: bool = False) -> Complaint | None:
        """``lock``: held until the unit of work ends (two supervisors change it in turn)."""

    @abc.abstractmethod
    def newest_unresolved(self, account_number: str) -> Complaint | None: ...

    @abc.abstractmethod
    def unresolved(self, limit: int) -> list[Complaint]:
        """Up to ``limit`` complaints not resolved yet, oldest deadline first."""

    @abc.abstractmethod
    def update(
        self,
        complaint_id: int,
        *,
        state: str | None = None,
        assigned_to: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Set the state (and its time, ``at``) and/or the assignee."""

    @abc.abstractmethod
    def record(self, event: ComplaintEvent) -> None: ...

    @abc.abstractmethod
    def events(self, complaint_id: int) -> list[ComplaintEvent]:
        """Its events, oldest first (the first thousand or so: the adapter bounds it)."""
