"""Signing in and out. An agent signs in with the username and password the contact centre
holds (scrypt hashes), through the guard against guessing (``ivr.web.guard``); the Flask
session (a signed cookie) then carries a server-side session's id (``ivr.web.sessions``)
and the CSRF token. Pages need a signed-in agent (``login_required``); the supervisor view
a supervisor (``supervisor_required``). Only a path on this site follows a sign-in
(``ivr.web.next_url``). The blueprints a phone system gives (its webhooks) authenticate
their own requests (Twilio's signature): no session and no CSRF token for them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar, cast

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from ivr.center import lifecycle as lc
from ivr.web import csrf, sessions
from ivr.web.context import center, signed_in
from ivr.web.errors import WebError, is_api
from ivr.web.guard import guard
from ivr.web.next_url import safe_next

bp = Blueprint("auth", __name__)
View = TypeVar("View", bound=Callable[..., object])
SUPERVISOR = "supervisor"
#: ``app.extensions``: the names of the blueprints that authenticate their own requests.
SELF_AUTHENTICATED = "ivr.self_authenticated_blueprints"


@bp.before_app_request
def load_agent() -> None:
    """``g.agent`` for pages (the API authenticates each request its own way)."""
    g.agent = None
    if is_api() or request.endpoint == "static" or _self_authenticated():
        return
    agent_id = sessions.current_agent_id()
    if agent_id is not None:
        g.agent = center().agent(agent_id)
        if g.agent is None or g.agent.disabled:  # removed or disabled since signing in
            g.agent = None
            sessions.end()
    csrf.check_form()


def _self_authenticated() -> bool:
    """A phone system's webhook (e.g. Twilio's, signed instead)."""
    names: frozenset[str] = current_app.extensions[SELF_AUTHENTICATED]
    return any(name in names for name in request.blueprints)


def login_required(view: View) -> View:
    @functools.wraps(view)
    def wrapped(*args: object, **kwargs: object) -> object:
        if signed_in() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(View, wrapped)


def supervisor_required(view: View) -> View:
    @functools.wraps(view)
    def wrapped(*args: object, **kwargs: object) -> object:
        agent = signed_in()
        if agent is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if agent.role != SUPERVISOR:
            abort(403, "This page is for supervisors.")
        return view(*args, **kwargs)

    return cast(View, wrapped)


@bp.route("/login", methods=("GET", "POST"))
def login() -> BaseResponse | tuple[str, int, dict[str, str]] | str:
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", next=target)
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    try:
        agent = guard().authenticate(username, password) if username and password else None
    except WebError as refused:
        flash(refused.message, "error")
        retry = {"Retry-After": str(refused.retry_after)} if refused.retry_after else {}
        page = render_template("login.html", next=target, username=username)
        return page, refused.status, retry
    if agent is None:
        flash("Wrong username or password.", "error")
        return render_template("login.html", next=target, username=username), 401, {}
    sessions.begin(agent.id)  # a new session for the new agent: no fixation
    csrf.token()
    home = "supervisor.index" if agent.role == SUPERVISOR else "console.index"
    return redirect(target or url_for(home))


@bp.post("/logout")
def logout() -> BaseResponse:
    agent = signed_in()
    if agent is not None and lc.allowed(lc.AGENT, agent.state, lc.Trigger.OFFLINE):
        center().set_availability(agent.id, False)  # no calls for an agent who has left
    sessions.end()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
