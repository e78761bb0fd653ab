"""Complaints for supervisors: the unresolved ones with their deadlines (overdue first),
one complaint with its history, and the forms that assign, note, acknowledge and resolve
it (each audited with who did it; CSRF-checked like every console form). The same under
``/api/complaints`` for scripts, authenticated as the rest of the API."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from ivr.web import api
from ivr.web.auth import supervisor_required
from ivr.web.complaint_views import (
    complaint,
    complaint_file,
    desk,
    file_or_404,
    refused_as_web_error,
    text_field,
)
from ivr.web.context import center, now, signed_in
from ivr.web.errors import WebError

bp = Blueprint("complaints", __name__, url_prefix="/supervisor/complaints")
api_bp = Blueprint("complaints_api", __name__, url_prefix="/api/complaints")
#: What a form or an API request may do to a complaint.
CHANGES = ("assign", "note", "acknowledge", "resolve")


def _zone() -> ZoneInfo:
    return ZoneInfo(desk().timezone)


def _actor() -> str:
    agent = signed_in()
    assert agent is not None  # supervisor_required, api.authenticate
    return f"agent:{agent.username}"


def _change(complaint_id: int, change: str, fields: dict[str, object]) -> None:
    """Run one change for the signed-in supervisor; WebError when it is refused."""
    actor = _actor()
    note = text_field(fields.get("note"), "note")
    if change == "assign":
        username = text_field(fields.get("username"), "username").strip()
        refused_as_web_error(lambda: desk().assign(actor, complaint_id, username))
    elif change == "note":
        refused_as_web_error(lambda: desk().note(actor, complaint_id, note))
    elif change == "acknowledge":
        refused_as_web_error(lambda: desk().acknowledge(actor, complaint_id, note))
    elif change == "resolve":
        refused_as_web_error(lambda: desk().resolve(actor, complaint_id, note))
    else:
        raise WebError(404, f"no change {change!r}; one of {', '.join(CHANGES)}")


@bp.get("/")
@supervisor_required
def index() -> str:
    at, zone = now(), _zone()
    rows = [complaint(c, at, zone) for c in desk().unresolved()]
    return render_template("complaints.html", complaints=rows, timezone=desk().timezone)


@bp.get("/<id:complaint_id>")
@supervisor_required
def detail(complaint_id: int) -> str:
    shown = complaint_file(file_or_404(complaint_id), now(), _zone())
    agents = sorted(a.username for a in center().agents_view())
    return render_template("complaint.html", c=shown, agents=agents, timezone=desk().timezone)


@bp.post("/<id:complaint_id>/<change>")
@supervisor_required
def change_form(complaint_id: int, change: str) -> BaseResponse:
    try:
        _change(complaint_id, change, dict(request.form))
        flash(f"Complaint {change}: done.", "info")
    except WebError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
    return redirect(url_for("complaints.detail", complaint_id=complaint_id))


@api_bp.before_request
def authenticate() -> None:
    api.authenticate()
    api.supervisors_only()


@api_bp.get("")
def list_unresolved() -> Response:
    at, zone = now(), _zone()
    return jsonify(
        timezone=desk().timezone, complaints=[complaint(c, at, zone) for c in desk().unresolved()]
    )


@api_bp.get("/<id:complaint_id>")
def one(complaint_id: int) -> Response:
    return jsonify(complaint=complaint_file(file_or_404(complaint_id), now(), _zone()))


@api_bp.post("/<id:complaint_id>/<change>")
def change_api(complaint_id: int, change: str) -> Response:
    _change(complaint_id, change, api.body())
    return jsonify(complaint=complaint_file(desk().file(complaint_id), now(), _zone()))
