"""The supervisors' JSON API (docs/api.md): pause an agent, move a waiting caller, and
administer agents. Authenticated as the rest of ``/api/`` (``ivr.web.api``); an agent
gets 403. A generated password is in the answer once (``password``) and nowhere else."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ivr.web import api, payloads
from ivr.web import supervisor_actions as do
from ivr.web.agent_admin_pages import FIELDS
from ivr.web.context import now

bp = Blueprint("agents_api", __name__, url_prefix="/api")


@bp.before_request
def authenticate() -> None:
    api.authenticate()
    api.supervisors_only()


def _agent(agent: Any, password: str | None = None) -> Response:
    body: dict[str, Any] = {"agent": payloads.agent(agent, now())}
    if password is not None:
        body["password"] = password
    return jsonify(body)


@bp.post("/agents/<id:agent_id>/pause")
def pause(agent_id: int) -> Response:
    return _agent(do.pause(api.me(), agent_id, api.body().get("reason")))


@bp.post("/queue/<id:entry_id>/move")
def move(entry_id: int) -> Response:
    moved = do.move(api.me(), entry_id, api.body().get("queue"))
    return jsonify(entry=payloads.entry(moved, now()))


@bp.post("/agents")
def create() -> Response:
    data = api.body()
    values = {k: data[k] for k in ("username", *FIELDS, "password") if k in data}
    agent, password = do.create(api.me(), values)
    response = _agent(agent, password)
    response.status_code = 201
    return response


@bp.route("/agents/<id:agent_id>", methods=("PATCH", "POST"))
def edit(agent_id: int) -> Response:
    return _agent(do.edit(api.me(), agent_id, api.body()))


@bp.post("/agents/<id:agent_id>/disable")
def disable(agent_id: int) -> Response:
    return _agent(do.set_disabled(api.me(), agent_id, True))


@bp.post("/agents/<id:agent_id>/enable")
def enable(agent_id: int) -> Response:
    return _agent(do.set_disabled(api.me(), agent_id, False))


@bp.post("/agents/<id:agent_id>/reset-password")
def reset_password(agent_id: int) -> Response:
    """``{"password": ...}`` sets that one; ``{}``, or no body, generates one."""
    data = api.body() if request.content_length else {}
    agent, generated = do.reset_password(api.me(), agent_id, data.get("password"))
    return _agent(agent, generated)
