"""The supervisor view: every queue with its figures, every agent with their state."""

from __future__ import annotations

from flask import Blueprint, render_template

from ivr.web import payloads
from ivr.web.auth import supervisor_required
from ivr.web.context import center, now

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")


@bp.get("/")
@supervisor_required
def index() -> str:
    at = now()
    places = center().queue_view()
    return render_template(
        "supervisor.html",
        stats=payloads.plain(center().stats()),
        agents=[payloads.agent(a, at) for a in center().agents_view()],
        queue=[payloads.place(p, at) for p in places],
        callbacks=payloads.callbacks(center().callbacks_view(), places),
    )
