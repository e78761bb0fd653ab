"""The JSON API's OpenAPI 3.1 document, served at ``GET /api/openapi.json`` without a
sign-in (docs/api.md says the same in prose). Every ``/api/`` route is here, and only
those: ``tests/unit/web/test_openapi.py`` holds the document to ``app.url_map``."""

from __future__ import annotations

import copy
from typing import Any

from ivr import __version__
from ivr.services.contact_agents import PAUSE_REASONS
from ivr.web.openapi_shapes import DISPOSITIONS, SCHEMAS, Schema, ref

#: Statuses every authenticated endpoint may answer besides its own.
_COMMON = {
    "401": "no or wrong credentials",
    "403": "missing or wrong X-CSRF-Token (a session's POST), or supervisors only",
    "429": "too many failed sign-ins for this username or from this address",
    "503": "every password-check slot is busy; try again after Retry-After",
}


def _json(schema: Schema, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(ref("Error"), description)


def _body(**properties: Schema) -> Schema:
    return {"type": "object", "properties": properties, "required": sorted(properties)}


def _list(item: str) -> Schema:
    return {"type": "array", "items": ref(item)}


def _operation(
    summary: str,
    answer: Schema,
    errors: dict[str, str] | None = None,
    request: Schema | None = None,
    supervisors: bool = False,
    status: str = "200",
    optional_body: bool = False,
) -> dict[str, Any]:
    responses = {status: _json(answer)}
    for status, why in {**_COMMON, **(errors or {})}.items():
        responses[status] = _error(why)
    operation: dict[str, Any] = {
        "summary": summary + (" (supervisors)" if supervisors else ""),
        "responses": responses,
    }
    if request is not None:
        operation["requestBody"] = {
            "required": not optional_body,
            "content": {"application/json": {"schema": request}},
        }
    return operation


def _id(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
        "description": "anything else is 404",
    }


_AGENT = _body(agent=ref("Agent"))
_ASSIGNMENT = _body(assignment=_body(entry=ref("Entry"), agent=ref("Agent")))
_COMPLAINT = _body(complaint=ref("ComplaintFile"))
_CHANGE = {
    "name": "change",
    "in": "path",
    "required": True,
    "schema": {"enum": ["assign", "note", "acknowledge", "resolve"]},
    "description": "another is 404",
}

_AGENT_PASSWORD: Schema = {
    "type": "object",
    "properties": {
        "agent": ref("Agent"),
        "password": {"type": "string", "description": "only when generated: shown once"},
    },
    "required": ["agent"],
}
_AGENT_FIELDS: dict[str, Schema] = {
    "name": {"type": "string", "maxLength": 120},
    "role": {"enum": ["agent", "supervisor"]},
    "skills": {"type": "array", "items": {"type": "string"}, "description": "queue skills"},
    "languages": {"type": "array", "items": {"type": "string"}, "description": "flow's"},
    "endpoint": {"type": "string", "description": "the PJSIP endpoint of their phone"},
}
_NEW_AGENT: Schema = {
    "type": "object",
    "properties": {
        "username": {"type": "string", "maxLength": 40},
        **_AGENT_FIELDS,
        "password": {"type": "string", "minLength": 12},
    },
    "required": ["username", *sorted(_AGENT_FIELDS)],
}
_EDIT_AGENT = _operation(
    "Change an agent's name, role, skills, languages or phone (audited)",
    _AGENT,
    {"400": "bad input (where names the field)", "404": "no such agent", "409": "refused"},
    {"type": "object", "properties": _AGENT_FIELDS},
    supervisors=True,
)

PATHS: dict[str, dict[str, Any]] = {
    "/api/openapi.json": {
        "get": {
            "summary": "This document (no sign-in)",
            "security": [],
            "responses": {"200": _json({"type": "object"})},
        }
    },
    "/api/me": {"get": _operation("The signed-in agent", _AGENT)},
    "/api/desk": {
        "get": _operation(
            "The screen pop: the agent's call, its callback and earlier notes",
            _body(
                agent=ref("Agent"),
                entry={"oneOf": [ref("Entry"), {"type": "null"}]},
                callback={"oneOf": [ref("Callback"), {"type": "null"}]},
                notes=_list("Note"),
                story={"oneOf": [ref("CallStory"), {"type": "null"}]},
                now={"type": "string", "format": "date-time"},
            ),
        )
    },
    "/api/events": {
        "get": {
            "summary": "Server-sent events for the console: `snapshot` (the desk, queue and "
            "callbacks, sent when they change), `away` (the database cannot be reached), "
            "`bye` (the stream's time is up: reconnect); comment lines are heartbeats",
            "responses": {
                "200": {
                    "description": "an event stream, ended after a bounded lifetime",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
                **{status: _error(why) for status, why in _COMMON.items()},
                "503": _error("this process has enough streams open: poll instead"),
            },
        }
    },
    "/api/state": {
        "post": _operation(
            "Go available, offline, or paused with a reason",
            _AGENT,
            {
                "400": "another state, or no pause reason",
                "409": "going available or pausing while ringing or on a call",
            },
            {
                "type": "object",
                "properties": {
                    "state": {"enum": ["available", "paused", "offline"]},
                    "reason": {"enum": list(PAUSE_REASONS), "description": "paused only"},
                },
                "required": ["state"],
            },
        )
    },
    "/api/queue": {
        "get": _operation(
            "Everyone waiting or being offered, in dispatch order",
            _body(
                now={"type": "string", "format": "date-time"},
                count={"type": "integer"},
                entries=_list("Place"),
            ),
        )
    },
    "/api/queue/claim": {
        "post": _operation(
            "Take the next caller the agent can take",
            _ASSIGNMENT,
            {"404": "nobody waiting whom the agent can take", "409": "not available"},
        )
    },
    "/api/calls/{entry_id}/complete": {
        "parameters": [_id("entry_id")],
        "post": _operation(
            "The disposition and notes at the end of a call",
            _body(note=ref("Note")),
            {"400": "bad disposition or notes", "409": "not this agent's call, or noted"},
            {
                "type": "object",
                "properties": {
                    "disposition": {"enum": DISPOSITIONS},
                    "notes": {"type": "string", "maxLength": 4000},
                },
                "required": ["disposition"],
            },
        ),
    },
    "/api/callbacks": {
        "get": _operation(
            "Active callbacks (oldest first), then recently ended ones",
            _body(callbacks=_list("Callback")),
        )
    },
    "/api/callbacks/{callback_id}/call": {
        "parameters": [_id("callback_id")],
        "post": _operation(
            "Call now: the waiting callback is offered to this agent",
            _ASSIGNMENT,
            {"404": "no such callback", "409": "refused: offered, dialled, done, expired"},
        ),
    },
    "/api/agents": {
        "get": _operation(
            "Every agent, by username, with their current call",
            _body(agents=_list("AgentNow")),
            supervisors=True,
        ),
        "post": _operation(
            "Create an agent (audited); a password is generated when none is given",
            _AGENT_PASSWORD,
            {"400": "bad input (where names the field)", "409": "the username is taken"},
            _NEW_AGENT,
            supervisors=True,
            status="201",
        ),
    },
    "/api/agents/{agent_id}": {
        "parameters": [_id("agent_id")],
        "patch": _EDIT_AGENT,
        "post": _EDIT_AGENT,
    },
    "/api/agents/{agent_id}/pause": {
        "parameters": [_id("agent_id")],
        "post": _operation(
            "Pause an agent with a reason (a ringing offer goes back to the line; audited)",
            _AGENT,
            {
                "400": "not a pause reason",
                "404": "no such agent",
                "409": "on a call, or disabled",
            },
            _body(reason={"enum": list(PAUSE_REASONS)}),
            supervisors=True,
        ),
    },
    "/api/agents/{agent_id}/disable": {
        "parameters": [_id("agent_id")],
        "post": _operation(
            "Disable an agent: offline, signed out, cannot sign in (audited)",
            _AGENT,
            {"404": "no such agent", "409": "yourself, or the last enabled supervisor"},
            supervisors=True,
        ),
    },
    "/api/agents/{agent_id}/enable": {
        "parameters": [_id("agent_id")],
        "post": _operation(
            "Enable a disabled agent (audited)", _AGENT, {"404": "no such agent"}, supervisors=True
        ),
    },
    "/api/agents/{agent_id}/reset-password": {
        "parameters": [_id("agent_id")],
        "post": _operation(
            "A new password (given, or generated and answered once); ends their sessions",
            _AGENT_PASSWORD,
            {"400": "too short a password", "404": "no such agent"},
            {"type": "object", "properties": {"password": {"type": "string", "minLength": 12}}},
            supervisors=True,
            optional_body=True,
        ),
    },
    "/api/queue/{entry_id}/move": {
        "parameters": [_id("entry_id")],
        "post": _operation(
            "Move a waiting caller to another queue, keeping their wait (audited)",
            _body(entry=ref("Entry")),
            {
                "400": "not one of the flow's queues",
                "404": "no such entry",
                "409": "not waiting (offered, connected, a callback)",
            },
            _body(queue={"type": "string"}),
            supervisors=True,
        ),
    },
    "/api/agents/{agent_id}/offline": {
        "parameters": [_id("agent_id")],
        "post": _operation(
            "Set an agent offline (audited)", _AGENT, {"404": "no such agent"}, supervisors=True
        ),
    },
    "/api/stats": {
        "get": _operation(
            "Per queue, in priority order",
            _body(queues={"type": "object", "additionalProperties": ref("QueueStats")}),
            supervisors=True,
        )
    },
    "/api/complaints": {
        "get": _operation(
            "The complaints not resolved yet, overdue first",
            _body(timezone={"type": "string"}, complaints=_list("Complaint")),
            supervisors=True,
        )
    },
    "/api/complaints/{complaint_id}": {
        "parameters": [_id("complaint_id")],
        "get": _operation(
            "One complaint with its history",
            _COMPLAINT,
            {"404": "no such complaint"},
            supervisors=True,
        ),
    },
    "/api/complaints/{complaint_id}/{change}": {
        "parameters": [_id("complaint_id"), _CHANGE],
        "post": _operation(
            "Assign, note, acknowledge or resolve a complaint (audited)",
            _COMPLAINT,
            {
                "400": "bad input: an empty note, an unknown agent",
                "404": "no such complaint or change",
                "409": "its state does not allow it",
            },
            {
                "type": "object",
                "properties": {
                    "username": {"type": "string", "description": "assign: the agent"},
                    "note": {"type": "string", "description": "required by note and resolve"},
                },
            },
            supervisors=True,
        ),
    },
}


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a new dict each time)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Wallet hotline agent API",
            "version": __version__,
            "description": "The agent console's JSON API (docs/api.md). Times are ISO 8601 "
            "in UTC; every error is {error, message, where?}.",
        },
        "servers": [{"url": "/"}],
        "security": [{"basic": []}, {"session": []}],
        "paths": copy.deepcopy(PATHS),
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "ivr_session",
                    "description": "the console's session; a POST also sends X-CSRF-Token",
                },
            },
        },
    }
