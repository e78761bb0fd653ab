"""SQL adapter of ``ivr.services.complaint_ports.Complaints``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.services.complaint_ports import (
    ACKNOWLEDGED,
    RESOLVED,
    UNRESOLVED,
    Complaint,
    ComplaintEvent,
    Complaints,
    NewComplaint,
)
from ivr.store.complaint_tables import ComplaintEventRow, ComplaintRow

#: A complaint's history as read back (a bound on what one page or answer holds).
MAX_EVENTS = 1000


class SqlComplaints(Complaints):
    def __init__(self, session: Session) -> None:
        self.session = session

    def reference_taken(self, reference: str) -> bool:
        query = select(ComplaintRow.id).where(ComplaintRow.reference == reference)
        return self.session.scalars(query).first() is not None

    def add(self, complaint: NewComplaint) -> int:
        row = ComplaintRow(
            reference=complaint.reference,
            account_number=complaint.account_number,
            caller=complaint.caller,
            category=complaint.category,
            state="open",
            call_id=complaint.call_id,
            recording_id=complaint.recording_id,
            created_at=complaint.created_at,
            acknowledge_by=complaint.acknowledge_by,
            resolve_by=complaint.resolve_by,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def get(self, complaint_id: int, lock: bool = False) -> Complaint | None:
        query = select(ComplaintRow).where(ComplaintRow.id == complaint_id)
        if lock:
            query = query.with_for_update()
        row = self.session.scalars(query).first()
        return None if row is None else _complaint(row)

    def newest_unresolved(self, account_number: str) -> Complaint | None:
        query = (
            select(ComplaintRow)
            .where(
                ComplaintRow.account_number == account_number,
                ComplaintRow.state.in_(UNRESOLVED),
            )
            .order_by(ComplaintRow.created_at.desc(), ComplaintRow.id.desc())
            .limit(1)
        )
        row = self.session.scalars(query).first()
        return None if row is None else _complaint(row)

    def unresolved(self, limit: int) -> list[Complaint]:
        query = (
            select(ComplaintRow)
            .where(ComplaintRow.state.in_(UNRESOLVED))
            .order_by(ComplaintRow.acknowledge_by, ComplaintRow.id)
            .limit(limit)
        )
        return [_complaint(row) for row in self.session.scalars(query)]

    def update(
        self,
        complaint_id: int,
        *,
        state: str | None = None,
        assigned_to: str | None = None,
        at: datetime | None = None,
    ) -> None:
        row = self.session.get(ComplaintRow, complaint_id)
        if row is None:
            raise LookupError(f"no complaint {complaint_id}")
        if state is not None:
            row.state = state
            if state == ACKNOWLEDGED:
                row.acknowledged_at = at
            elif state == RESOLVED:
                row.resolved_at = at
        if assigned_to is not None:
            row.assigned_to = assigned_to
        self.session.flush()

    def record(self, event: ComplaintEvent) -> None:
        self.session.add(
            ComplaintEventRow(
                complaint_id=event.complaint_id,
                at=event.at,
                actor=event.actor,
                action=event.action,
                note=event.note,
            )
        )
        self.session.flush()

    def events(self, complaint_id: int) -> list[ComplaintEvent]:
        query = (
            select(ComplaintEventRow)
            .where(ComplaintEventRow.complaint_id == complaint_id)
            .order_by(ComplaintEventRow.at, ComplaintEventRow.id)
            .limit(MAX_EVENTS)
        )
        return [
            ComplaintEvent(row.complaint_id, row.at, row.actor, row.action, row.note)
            for row in self.session.scalars(query)
        ]


def _complaint(row: ComplaintRow) -> Complaint:
    return Complaint(
        id=row.id,
        reference=row.reference,
        account_number=row.account_number,
        caller=row.caller,
        category=row.category,
        state=row.state,
        call_id=row.call_id,
        recording_id=row.recording_id,
        assigned_to=row.assigned_to,
        created_at=row.created_at,
        acknowledge_by=row.acknowledge_by,
        resolve_by=row.resolve_by,
        acknowledged_at=row.acknowledged_at,
        resolved_at=row.resolved_at,
    )
