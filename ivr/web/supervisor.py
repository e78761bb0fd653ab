"""The supervisor view: every queue with its figures, every agent with their state, and
a button to set any agent offline (whatever they are doing; audited with who did it)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from ivr.web import actions, payloads
from ivr.web.auth import supervisor_required
from ivr.web.context import center, now, signed_in
from ivr.web.errors import WebError

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


@bp.post("/agents/<id:agent_id>/offline")
@supervisor_required
def force_offline(agent_id: int) -> BaseResponse:
    supervisor = signed_in()
    assert supervisor is not None  # supervisor_required
    try:
        agent = actions.force_offline(supervisor, agent_id)
        flash(f"{agent.name} is offline.", "info")
    except WebError as exc:
        flash(exc.message, "error")
    return redirect(url_for("supervisor.index"))
