"""The supervisors' administration in the OpenAPI document (``ivr.web.openapi``): agents
listed with their calls, created, edited, paused, disabled, enabled, given a new password,
and a waiting caller moved to another queue (``ivr.web.agents_api``)."""

from __future__ import annotations

from typing import Any

from ivr.services.contact_agents import PAUSE_REASONS
from ivr.web.openapi_parts import body, listed, operation, path_id
from ivr.web.openapi_shapes import Schema, ref

_AGENT = body(agent=ref("Agent"))
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
_EDIT_AGENT = operation(
    "Change an agent's name, role, skills, languages or phone (audited)",
    _AGENT,
    {"400": "bad input (where names the field)", "404": "no such agent", "409": "refused"},
    {"type": "object", "properties": _AGENT_FIELDS},
    supervisors=True,
)

ADMIN_PATHS: dict[str, dict[str, Any]] = {
    "/api/agents": {
        "get": operation(
            "Every agent, by username, with their current call",
            body(agents=listed("AgentNow")),
            supervisors=True,
        ),
        "post": operation(
            "Create an agent (audited); a password is generated when none is given",
            _AGENT_PASSWORD,
            {"400": "bad input (where names the field)", "409": "the username is taken"},
            _NEW_AGENT,
            supervisors=True,
            status="201",
        ),
    },
    "/api/agents/{agent_id}": {
        "parameters": [path_id("agent_id")],
        "patch": _EDIT_AGENT,
        "post": _EDIT_AGENT,
    },
    "/api/agents/{agent_id}/pause": {
        "parameters": [path_id("agent_id")],
        "post": operation(
            "Pause an agent with a reason (a ringing offer goes back to the line; audited)",
            _AGENT,
            {
                "400": "not a pause reason",
                "404": "no such agent",
                "409": "on a call, or disabled",
            },
            body(reason={"enum": list(PAUSE_REASONS)}),
            supervisors=True,
        ),
    },
    "/api/agents/{agent_id}/disable": {
        "parameters": [path_id("agent_id")],
        "post": operation(
            "Disable an agent: offline, signed out, cannot sign in (audited)",
            _AGENT,
            {"404": "no such agent", "409": "yourself, or the last enabled supervisor"},
            supervisors=True,
        ),
    },
    "/api/agents/{agent_id}/enable": {
        "parameters": [path_id("agent_id")],
        "post": operation(
            "Enable a disabled agent (audited)", _AGENT, {"404": "no such agent"}, supervisors=True
        ),
    },
    "/api/agents/{agent_id}/reset-password": {
        "parameters": [path_id("agent_id")],
        "post": operation(
            "A new password (given, or generated and answered once); ends their sessions",
            _AGENT_PASSWORD,
            {"400": "too short a password", "404": "no such agent"},
            {"type": "object", "properties": {"password": {"type": "string", "minLength": 12}}},
            supervisors=True,
            optional_body=True,
        ),
    },
    "/api/queue/{entry_id}/move": {
        "parameters": [path_id("entry_id")],
        "post": operation(
            "Move a waiting caller to another queue, keeping their wait (audited)",
            body(entry=ref("Entry")),
            {
                "400": "not one of the flow's queues",
                "404": "no such entry",
                "409": "not waiting (offered, connected, a callback)",
            },
            body(queue={"type": "string"}),
            supervisors=True,
        ),
    },
}
