"""The JSON API's OpenAPI 3.1 document, served at ``GET /api/openapi.json`` without a
sign-in (docs/api.md says the same in prose). Every ``/api/`` route is here, and only
those: ``tests/integration/web/test_openapi.py`` holds the document to ``app.url_map``.
Its pieces: ``openapi_parts`` (operations), ``openapi_shapes`` (bodies) and
``openapi_admin`` (the supervisors' administration)."""

from __future__ import annotations

import copy
from typing import Any

from ivr import __version__
from ivr.services.contact_agents import PAUSE_REASONS
from ivr.web.openapi_admin import ADMIN_PATHS
from ivr.web.openapi_parts import COMMON, body, error, json_body, listed, operation, path_id
from ivr.web.openapi_shapes import DISPOSITIONS, SCHEMAS, ref

#: Statuses every authenticated endpoint may answer besides its own.
_AGENT = body(agent=ref("Agent"))
_ASSIGNMENT = body(assignment=body(entry=ref("Entry"), agent=ref("Agent")))
_COMPLAINT = body(complaint=ref("ComplaintFile"))
_CHANGE = {
    "name": "change",
    "in": "path",
    "required": True,
    "schema": {"enum": ["assign", "note", "acknowledge", "resolve"]},
    "description": "another is 404",
}

PATHS: dict[str, dict[str, Any]] = {
    "/api/openapi.json": {
        "get": {
            "summary": "This document (no sign-in)",
            "security": [],
            "responses": {"200": json_body({"type": "object"})},
        }
    },
    "/api/me": {"get": operation("The signed-in agent", _AGENT)},
    "/api/desk": {
        "get": operation(
            "The screen pop: the agent's call, its callback and earlier notes",
            body(
                agent=ref("Agent"),
                entry={"oneOf": [ref("Entry"), {"type": "null"}]},
                callback={"oneOf": [ref("Callback"), {"type": "null"}]},
                notes=listed("Note"),
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
                **{status: error(why) for status, why in COMMON.items()},
                "503": error("this process has enough streams open: poll instead"),
            },
        }
    },
    "/api/state": {
        "post": operation(
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
        "get": operation(
            "Everyone waiting or being offered, in dispatch order",
            body(
                now={"type": "string", "format": "date-time"},
                count={"type": "integer"},
                entries=listed("Place"),
            ),
        )
    },
    "/api/queue/claim": {
        "post": operation(
            "Take the next caller the agent can take",
            _ASSIGNMENT,
            {"404": "nobody waiting whom the agent can take", "409": "not available"},
        )
    },
    "/api/calls/{entry_id}/complete": {
        "parameters": [path_id("entry_id")],
        "post": operation(
            "The disposition and notes at the end of a call",
            body(note=ref("Note")),
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
        "get": operation(
            "Active callbacks (oldest first), then recently ended ones",
            body(callbacks=listed("Callback")),
        )
    },
    "/api/callbacks/{callback_id}/call": {
        "parameters": [path_id("callback_id")],
        "post": operation(
            "Call now: the waiting callback is offered to this agent",
            _ASSIGNMENT,
            {"404": "no such callback", "409": "refused: offered, dialled, done, expired"},
        ),
    },
    **ADMIN_PATHS,
    "/api/agents/{agent_id}/offline": {
        "parameters": [path_id("agent_id")],
        "post": operation(
            "Set an agent offline (audited)", _AGENT, {"404": "no such agent"}, supervisors=True
        ),
    },
    "/api/stats": {
        "get": operation(
            "Per queue, in priority order",
            body(queues={"type": "object", "additionalProperties": ref("QueueStats")}),
            supervisors=True,
        )
    },
    "/api/complaints": {
        "get": operation(
            "The complaints not resolved yet, overdue first",
            body(timezone={"type": "string"}, complaints=listed("Complaint")),
            supervisors=True,
        )
    },
    "/api/complaints/{complaint_id}": {
        "parameters": [path_id("complaint_id")],
        "get": operation(
            "One complaint with its history",
            _COMPLAINT,
            {"404": "no such complaint"},
            supervisors=True,
        ),
    },
    "/api/complaints/{complaint_id}/{change}": {
        "parameters": [path_id("complaint_id"), _CHANGE],
        "post": operation(
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
