"""Complaints as the supervisor's page and the JSON API show them: times in the hotline's
time zone (the flow's ``complaints: timezone``), overdue ones marked; and the desk's
refusals as web errors (404 no such complaint, 400 bad input, 409 a state that does not
allow the change)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ivr.services.complaint_desk import ComplaintDesk, ComplaintFile, ComplaintRefused
from ivr.services.complaint_ports import Complaint, ComplaintEvent
from ivr.web.context import hotline
from ivr.web.errors import WebError


def desk() -> ComplaintDesk:
    return hotline().complaints


def shown(at: datetime | None, zone: ZoneInfo) -> str | None:
    """``2030-12-01 09:30 CST``: a time as the hotline's people read it."""
    return None if at is None else at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def complaint(c: Complaint, now: datetime, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": c.id,
        "reference": c.reference,
        "account_number": c.account_number,
        "caller": c.caller,
        "category": c.category,
        "state": c.state,
        "assigned_to": c.assigned_to,
        "recording_id": c.recording_id,
        "overdue": c.overdue(now),
        "due": shown(c.due(), zone),
        "created_at": shown(c.created_at, zone),
        "acknowledge_by": shown(c.acknowledge_by, zone),
        "resolve_by": shown(c.resolve_by, zone),
        "acknowledged_at": shown(c.acknowledged_at, zone),
        "resolved_at": shown(c.resolved_at, zone),
    }


def event(e: ComplaintEvent, zone: ZoneInfo) -> dict[str, Any]:
    return {"at": shown(e.at, zone), "actor": e.actor, "action": e.action, "note": e.note}


def complaint_file(found: ComplaintFile, now: datetime, zone: ZoneInfo) -> dict[str, Any]:
    return {
        **complaint(found.complaint, now, zone),
        "events": [event(e, zone) for e in found.events],
    }


def refused_as_web_error(run: Callable[[], Complaint]) -> Complaint:
    try:
        return run()
    except ComplaintRefused as exc:
        status = 404 if exc.missing else 400 if exc.invalid else 409
        raise WebError(status, exc.message) from exc


def file_or_404(complaint_id: int) -> ComplaintFile:
    try:
        return desk().file(complaint_id)
    except ComplaintRefused as exc:
        raise WebError(404, exc.message) from exc


def text_field(value: object, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WebError(400, f"{where} must be text", where)
    return value
