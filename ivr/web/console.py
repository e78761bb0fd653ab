"""The agent console: availability, the screen pop of the current call, notes and
disposition, the live queue and the callbacks. Pages work without script (forms that post
and come back); ``static/console.js`` keeps the queue and screen pop fresh from the API."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from ivr.services.contact_agents import DISPOSITIONS, Agent
from ivr.web import actions, payloads
from ivr.web.auth import login_required
from ivr.web.context import center, now, signed_in
from ivr.web.errors import WebError

bp = Blueprint("console", __name__)


def _agent() -> Agent:
    agent = signed_in()
    assert agent is not None  # login_required
    return agent


@bp.get("/")
@login_required
def index() -> str:
    agent, at = _agent(), now()
    places = center().queue_view()
    return render_template(
        "console.html",
        desk=payloads.desk(center().desk(agent.id), at),
        queue=[payloads.place(p, at, agent) for p in places],
        callbacks=payloads.callbacks(center().callbacks_view(), places),
        dispositions=DISPOSITIONS,
        notes_limit=actions.NOTES_LIMIT,
    )


def _back(action: Callable[[], str]) -> BaseResponse:
    """Do it, say how it went, and go back to the console (refusals are said, not raised:
    400, 404 and 409 are things an agent fixes by reading the message)."""
    try:
        flash(action(), "info")
    except WebError as exc:
        if exc.status == 403:
            raise
        flash(exc.message, "error")
    return redirect(url_for("console.index"))


@bp.post("/availability")
@login_required
def availability() -> BaseResponse:
    def go() -> str:
        agent = actions.set_state(_agent(), request.form.get("state"))
        return f"You are {agent.state.replace('_', ' ')}."

    return _back(go)


@bp.post("/claim")
@login_required
def claim() -> BaseResponse:
    def go() -> str:
        entry = actions.claim(_agent()).entry
        caller = entry.caller_number or entry.caller_id or entry.call_id
        return f"Caller {caller} ({entry.queue}) is yours."

    return _back(go)


@bp.post("/calls/<id:entry_id>/complete")
@login_required
def complete(entry_id: int) -> BaseResponse:
    def go() -> str:
        form = request.form
        note = actions.complete(_agent(), entry_id, form.get("disposition"), form.get("notes"))
        return f"Saved: {note.disposition.replace('_', ' ')}."

    return _back(go)


@bp.post("/callbacks/<id:callback_id>/call")
@login_required
def call_now(callback_id: int) -> BaseResponse:
    def go() -> str:
        actions.call_now(_agent(), callback_id)
        return f"Calling back request {callback_id} now."

    return _back(go)
