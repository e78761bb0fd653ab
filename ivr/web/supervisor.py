"""The supervisor view: every queue with its figures, every agent with their state and
current call, and forms to set any agent offline (whatever they are doing) or paused with
a reason, and to move a waiting caller to another queue (each audited with who did it).
Supervisors land here after signing in; agents are administered on ``/supervisor/agents/``
(``ivr.web.agent_admin_pages``)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from ivr.services.contact_agents import PAUSE_REASONS, Agent
from ivr.web import actions, payloads
from ivr.web import supervisor_actions as do
from ivr.web.auth import supervisor_required
from ivr.web.context import center, hotline, now, signed_in
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
        agents=[payloads.agent_now(a, at) for a in center().agents_now()],
        queue=[payloads.place(p, at) for p in places],
        callbacks=payloads.callbacks(center().callbacks_view(), places),
        pause_reasons=PAUSE_REASONS,
        queues=list(hotline().flow.queues),
        now=at.isoformat(),
    )


def _supervisor() -> Agent:
    supervisor = signed_in()
    assert supervisor is not None  # supervisor_required
    return supervisor


@bp.post("/agents/<id:agent_id>/offline")
@supervisor_required
def force_offline(agent_id: int) -> BaseResponse:
    return _back(lambda: f"{actions.force_offline(_supervisor(), agent_id).name} is offline.")


@bp.post("/agents/<id:agent_id>/pause")
@supervisor_required
def pause(agent_id: int) -> BaseResponse:
    def go() -> str:
        agent = do.pause(_supervisor(), agent_id, request.form.get("reason"))
        return f"{agent.name} is paused ({agent.pause_reason})."

    return _back(go)


@bp.post("/queue/<id:entry_id>/move")
@supervisor_required
def move(entry_id: int) -> BaseResponse:
    def go() -> str:
        entry = do.move(_supervisor(), entry_id, request.form.get("queue"))
        return f"Caller {entry.id} moved to {entry.queue}."

    return _back(go)


def _back(action: Callable[[], str]) -> BaseResponse:
    """Do it, say how it went (a refusal is said, not raised), and go back to the view."""
    try:
        flash(action(), "info")
    except WebError as exc:
        flash(exc.message, "error")
    return redirect(url_for("supervisor.index"))
