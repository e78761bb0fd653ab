"""What supervisors do with complaints: see the unresolved ones (overdue first, then by
the deadline they wait for), read one with its history, and assign, note, acknowledge or
resolve it. Each change is one unit of work holding the complaint, its event (who, what,
the note, when) and the audit row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ivr.errors import IvrError
from ivr.flow.complaints import ComplaintStandard
from ivr.services import ports
from ivr.services.complaint_ports import (
    ACKNOWLEDGED,
    OPEN,
    RESOLVED,
    Complaint,
    ComplaintEvent,
)

NOTE_LIMIT = 4000
LIST_LIMIT = 500


class ComplaintRefused(IvrError):
    """A change the complaint's state does not allow; ``missing``: no such complaint;
    ``invalid``: the input itself is wrong (an empty note, an unknown agent)."""

    def __init__(self, message: str, missing: bool = False, invalid: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing
        self.invalid = invalid


@dataclass(frozen=True)
class ComplaintFile:
    complaint: Complaint
    events: tuple[ComplaintEvent, ...]


class ComplaintDesk:
    """``actor`` of every change: ``agent:<username>`` of the supervisor making it."""

    def __init__(
        self,
        unit_of_work: Callable[[], ports.UnitOfWork],
        clock: ports.Clock,
        standard: Callable[[], ComplaintStandard] = ComplaintStandard,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock
        self.standard = standard

    @property
    def timezone(self) -> str:
        """The zone the standard's deadlines are shown in (IANA name)."""
        return self.standard().timezone

    def unresolved(self) -> list[Complaint]:
        """Overdue ones first (the most overdue first), then by the deadline they wait for."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            found = uow.complaints.unresolved(LIST_LIMIT)
        return sorted(found, key=lambda c: (not c.overdue(now), c.due(), c.id))

    def file(self, complaint_id: int) -> ComplaintFile:
        with self.unit_of_work() as uow:
            complaint = uow.complaints.get(complaint_id)
            if complaint is None:
                raise ComplaintRefused(f"no complaint {complaint_id}", missing=True)
            return ComplaintFile(complaint, tuple(uow.complaints.events(complaint_id)))

    def assign(self, actor: str, complaint_id: int, username: str) -> Complaint:
        def change(uow: ports.UnitOfWork, complaint: Complaint) -> str:
            if uow.agents.by_username(username) is None:
                raise ComplaintRefused(f"no agent {username!r}", invalid=True)
            uow.complaints.update(complaint.id, assigned_to=username)
            return username

        return self._change(actor, complaint_id, "assigned", change)

    def note(self, actor: str, complaint_id: int, text: str) -> Complaint:
        note = _note(text, required=True)
        return self._change(actor, complaint_id, "noted", lambda uow, c: note)

    def acknowledge(self, actor: str, complaint_id: int, text: str = "") -> Complaint:
        note = _note(text)

        def change(uow: ports.UnitOfWork, complaint: Complaint) -> str:
            if complaint.state != OPEN:
                raise ComplaintRefused(f"complaint {complaint.reference} is {complaint.state}")
            uow.complaints.update(complaint.id, state=ACKNOWLEDGED, at=self.clock.now())
            return note

        return self._change(actor, complaint_id, "acknowledged", change)

    def resolve(self, actor: str, complaint_id: int, text: str) -> Complaint:
        note = _note(text, required=True)

        def change(uow: ports.UnitOfWork, complaint: Complaint) -> str:
            if complaint.state == RESOLVED:
                raise ComplaintRefused(f"complaint {complaint.reference} is resolved already")
            uow.complaints.update(complaint.id, state=RESOLVED, at=self.clock.now())
            return note

        return self._change(actor, complaint_id, "resolved", change)

    def _change(
        self,
        actor: str,
        complaint_id: int,
        action: str,
        change: Callable[[ports.UnitOfWork, Complaint], str],
    ) -> Complaint:
        now = self.clock.now()
        with self.unit_of_work() as uow:
            complaint = uow.complaints.get(complaint_id, lock=True)
            if complaint is None:
                raise ComplaintRefused(f"no complaint {complaint_id}", missing=True)
            if complaint.state == RESOLVED and action != "noted":
                raise ComplaintRefused(f"complaint {complaint.reference} is resolved already")
            note = change(uow, complaint)
            uow.complaints.record(ComplaintEvent(complaint.id, now, actor, action, note))
            detail = {"reference": complaint.reference, "note": note}
            uow.audit.record(
                now,
                complaint.call_id,
                complaint.account_number,
                f"complaint_{action}",
                detail,
                actor,
            )
            uow.commit()
            changed = uow.complaints.get(complaint.id)
        assert changed is not None
        return changed


def _note(text: str, required: bool = False) -> str:
    note = text.strip()
    if required and not note:
        raise ComplaintRefused("write a note", invalid=True)
    if len(note) > NOTE_LIMIT:
        raise ComplaintRefused(
            f"the note is {len(note)} characters; at most {NOTE_LIMIT}", invalid=True
        )
    return note
