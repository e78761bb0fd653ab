"""The supervisor's pages for agents: the list (``/supervisor/agents/``), a new agent, one
agent's details with disable/enable and a new password. Plain forms with the session's
CSRF token (``ivr.web.csrf``); the rules are ``ivr.services.agent_admin``'s. A generated
password is shown once on the page that answers the form, never put in the session."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from ivr.services.agent_admin import ROLES
from ivr.services.contact_agents import Agent
from ivr.web import payloads
from ivr.web import supervisor_actions as do
from ivr.web.auth import supervisor_required
from ivr.web.context import center, now, signed_in
from ivr.web.errors import WebError

log = logging.getLogger(__name__)
bp = Blueprint("agent_admin", __name__, url_prefix="/supervisor/agents")
#: The fields a supervisor edits (the username is chosen once; the password has its own form).
FIELDS = ("name", "role", "skills", "languages", "endpoint")
DATABASE_AWAY = "The database cannot be reached, so agents cannot be shown or changed now."
Page = str | tuple[str, int]


def _me() -> Agent:
    me = signed_in()
    assert me is not None  # supervisor_required
    return me


def _form_values(with_username: bool) -> dict[str, Any]:
    values: dict[str, Any] = {k: request.form.get(k, "") for k in ("name", "role", "endpoint")}
    values["skills"] = request.form.getlist("skills")
    values["languages"] = request.form.getlist("languages")
    if with_username:
        values["username"] = request.form.get("username", "").strip()
        values["password"] = request.form.get("password", "")
    return values


def _form(agent: Agent | None, values: dict[str, Any], error: WebError | None = None) -> Page:
    shown = {k: v for k, v in values.items() if k != "password"}
    page = render_template(
        "agent_form.html", agent=agent, values=shown, choices=do.choices(), roles=ROLES,
        error=error,
    )  # fmt: skip
    return page if error is None else (page, error.status)


def _saved(agent: Agent, password: str | None, created: bool) -> BaseResponse:
    """The answer to a new agent or password: the generated password, never cached."""
    page = render_template("agent_saved.html", agent=agent, password=password, created=created)
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@supervisor_required
def index() -> str:
    at = now()
    agents = [payloads.agent(a, at) for a in center().agents_view()]
    return render_template("agents.html", agents=agents)


@bp.route("/new", methods=("GET", "POST"))
@supervisor_required
def new() -> Page | BaseResponse:
    if request.method == "GET":
        return _form(None, {"role": "agent", "skills": [], "languages": []})
    values = _form_values(with_username=True)
    try:
        agent, password = do.create(_me(), values)
    except WebError as refused:
        return _form(None, values, refused)
    return _saved(agent, password, created=True)


@bp.route("/<id:agent_id>", methods=("GET", "POST"))
@supervisor_required
def detail(agent_id: int) -> Page | BaseResponse:
    agent = center().agent(agent_id)
    if agent is None:
        raise WebError(404, f"no agent {agent_id}")
    if request.method == "GET":
        values = {k: getattr(agent, k) for k in FIELDS}
        values.update(skills=sorted(agent.skills), languages=sorted(agent.languages))
        return _form(agent, values)
    values = _form_values(with_username=False)
    try:
        do.edit(_me(), agent_id, values)
    except WebError as refused:
        return _form(agent, values, refused)
    flash(f"{agent.name}: saved.", "info")
    return redirect(url_for("agent_admin.detail", agent_id=agent_id))


@bp.post("/<id:agent_id>/<change>")
@supervisor_required
def change(agent_id: int, change: str) -> str | BaseResponse:
    if change == "reset-password":
        agent, password = do.reset_password(_me(), agent_id, request.form.get("password", ""))
        return _saved(agent, password, created=False)
    if change not in ("disable", "enable"):
        raise WebError(404, f"no such change: {change}")
    try:
        agent = do.set_disabled(_me(), agent_id, change == "disable")
        flash(f"{agent.name} is {'disabled' if agent.disabled else 'enabled'}.", "info")
    except WebError as refused:
        flash(refused.message, "error")
    return redirect(url_for("agent_admin.detail", agent_id=agent_id))


@bp.errorhandler(SQLAlchemyError)
def database_away(exc: SQLAlchemyError) -> tuple[str, int]:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    log.warning("agents pages: database error: %s", reason[0] if reason else type(exc).__name__)
    return render_template("error.html", status=503, message=DATABASE_AWAY), 503
