"""The JSON API under ``/api/`` (docs/api.md). Each request is authenticated on its own:
HTTP Basic with the agent's username and password, or the console's session cookie, in
which case a mutating request must also send the session's token as ``X-CSRF-Token``.
Errors are ``{"error", "message", "where"?}`` with 400, 401, 403, 404 or 409. The one
endpoint without a sign-in is ``GET /api/openapi.json``, the API's description
(``ivr.web.openapi``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from ivr.services.contact_agents import Agent
from ivr.web import actions, csrf, events, openapi, payloads, sessions
from ivr.web.auth import SUPERVISOR
from ivr.web.context import center, now
from ivr.web.errors import WebError, bad_input
from ivr.web.guard import guard

bp = Blueprint("api", __name__, url_prefix="/api")
#: Endpoints answered without a sign-in: they say nothing but what the code says.
PUBLIC = frozenset({"api.openapi_document"})


@bp.before_request
def authenticate_unless_public() -> None:
    if request.endpoint not in PUBLIC:
        authenticate()


def authenticate() -> None:
    """The agent behind this request (``g.agent``), or a WebError (401, 403)."""
    credentials = request.authorization
    if credentials is not None:
        if credentials.type != "basic":
            raise WebError(401, "only HTTP Basic credentials are accepted")
        agent = guard().authenticate(credentials.username or "", credentials.password or "")
        if agent is None:
            raise WebError(401, "wrong username or password")
        g.agent = agent
        return
    agent_id = sessions.current_agent_id()
    agent = center().agent(agent_id) if agent_id is not None else None
    if agent is None or agent.disabled:
        raise WebError(401, "sign in first: HTTP Basic credentials, or the console's session")
    g.agent = agent
    csrf.check_header()


def me() -> Agent:
    agent: Agent = g.agent
    return agent


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise bad_input("send a JSON object (Content-Type: application/json)", "body")
    return data


def supervisors_only() -> None:
    if me().role != SUPERVISOR:
        raise WebError(403, "for supervisors only")


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 document of this API (no sign-in)."""
    return jsonify(openapi.document())


@bp.get("/me")
def whoami() -> Response:
    return jsonify(agent=payloads.agent(me(), now()))


@bp.get("/desk")
def desk() -> Response:
    """The screen pop: the agent's current call, its callback and earlier notes."""
    return jsonify(payloads.desk(center().desk(me().id), now()))


@bp.get("/events")
def live() -> Response:
    """Server-sent events: the desk, the queue and the callbacks when they change
    (``ivr.web.events``); 503 when this process has enough streams open."""
    return events.stream(me().id)


@bp.post("/state")
def set_state() -> Response:
    data = body()
    agent = actions.set_state(me(), data.get("state"), reason=data.get("reason"))
    return jsonify(agent=payloads.agent(agent, now()))


@bp.get("/queue")
def queue() -> Response:
    at = now()
    places = [payloads.place(p, at, me()) for p in center().queue_view()]
    return jsonify(now=at.isoformat(), count=len(places), entries=places)


@bp.post("/queue/claim")
def claim() -> Response:
    return jsonify(assignment=payloads.assignment(actions.claim(me()), now()))


@bp.post("/calls/<id:entry_id>/complete")
def complete(entry_id: int) -> Response:
    data = body()
    note = actions.complete(me(), entry_id, data.get("disposition"), data.get("notes", ""))
    return jsonify(note=payloads.plain(note))


@bp.get("/callbacks")
def callbacks() -> Response:
    listed = payloads.callbacks(center().callbacks_view(), center().queue_view())
    return jsonify(callbacks=listed)


@bp.post("/callbacks/<id:callback_id>/call")
def call_now(callback_id: int) -> Response:
    return jsonify(assignment=payloads.assignment(actions.call_now(me(), callback_id), now()))


@bp.get("/agents")
def agents() -> Response:
    supervisors_only()
    at = now()
    return jsonify(agents=[payloads.agent_now(a, at) for a in center().agents_now()])


@bp.post("/agents/<id:agent_id>/offline")
def force_offline(agent_id: int) -> Response:
    """A supervisor sets any agent offline (audited with who did it)."""
    supervisors_only()
    agent = actions.force_offline(me(), agent_id)
    return jsonify(agent=payloads.agent(agent, now()))


@bp.get("/stats")
def stats() -> Response:
    supervisors_only()
    return jsonify(queues=payloads.plain(center().stats()))
