"""The agent console: availability, the screen pop of the current call, notes and
disposition, the live queue and the callbacks. Pages work without script (forms that post
and come back); ``static/console.js`` keeps the queue and screen pop fresh from the API."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from ivr.audio.tone import ring_tone
from ivr.services.contact_agents import DISPOSITIONS, PAUSE_REASONS, Agent
from ivr.web import actions, console_words, payloads
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
        pause_reasons=PAUSE_REASONS,
        notes_limit=actions.NOTES_LIMIT,
        words=console_words,
    )


@bp.get("/ring.wav")
@login_required
def ring() -> Response:
    """The ringing alert's sound, made here (``ivr.audio.tone``), never fetched elsewhere."""
    response = Response(ring_tone(), mimetype="audio/wav")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


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
        form = request.form
        agent = actions.set_state(_agent(), form.get("state"), reason=form.get("reason"))
        if agent.pause_reason:
            return f"You are paused ({agent.pause_reason})."
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
