"""The JSON API's bodies as OpenAPI 3.1 schemas (JSON Schema 2020-12): what
``ivr.web.payloads`` and ``ivr.web.complaint_views`` send, and the error body of
``ivr.web.errors``. ``ivr.web.openapi`` puts them into the document."""

from __future__ import annotations

from typing import Any

from ivr.center import lifecycle as lc
from ivr.services.contact_agents import DISPOSITIONS as _DISPOSITIONS
from ivr.services.contact_agents import PAUSE_REASONS

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, description: str = "", **more: Any) -> Schema:
    schema: Schema = {"type": [kind, "null"], **more}
    if description:
        schema["description"] = description
    return schema


def _object(description: str, properties: dict[str, Schema], required: bool = True) -> Schema:
    """An object with these properties (all present when ``required``); more may come."""
    schema: Schema = {"type": "object", "description": description, "properties": properties}
    if required:
        schema["required"] = sorted(properties)
    return schema


TIME: Schema = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC"}
NULL_TIME: Schema = {**TIME, "type": ["string", "null"]}
ID: Schema = {"type": "integer", "minimum": 1, "maximum": 2147483647}
TEXTS: Schema = {"type": "array", "items": {"type": "string"}}

AGENT = _object(
    "An agent and their state.",
    {
        "id": ID,
        "username": {"type": "string"},
        "name": {"type": "string"},
        "role": {"enum": ["agent", "supervisor"]},
        "skills": {**TEXTS, "description": "sorted"},
        "languages": {**TEXTS, "description": "sorted"},
        "endpoint": {"type": "string", "description": "the agent's phone"},
        "state": {"enum": sorted(lc.STATES[lc.AGENT])},
        "state_since": TIME,
        "wrap_up_until": NULL_TIME,
        "entry_id": _nullable("integer", "the entry last offered to the agent"),
        "seconds_in_state": _nullable("integer"),
        "wrap_up_seconds_left": _nullable("integer", "null unless in wrap-up"),
        "pause_reason": {
            "oneOf": [{"enum": list(PAUSE_REASONS)}, {"type": "null"}],
            "description": "why a paused agent is paused; null in any other state",
        },
        "disabled": {"type": "boolean", "description": "cannot sign in, offered nothing"},
    },
)
AGENT_NOW: Schema = {
    "allOf": [
        {"$ref": "#/components/schemas/Agent"},
        _object(
            "The agent with the call they are offered or on (GET /api/agents).",
            {
                "call": {
                    "oneOf": [
                        _object(
                            "The call: who, which queue, since it was offered or answered.",
                            {
                                "entry_id": ID,
                                "state": {"enum": ["offered", "connected"]},
                                "caller": {"type": "string"},
                                "queue": {"type": "string"},
                                "since": NULL_TIME,
                                "seconds": _nullable("integer"),
                            },
                        ),
                        {"type": "null"},
                    ]
                }
            },
        ),
    ]
}
ENTRY = _object(
    "A queue entry: a caller waiting, offered, connected or done.",
    {
        "id": ID,
        "kind": {"enum": ["call", "callback"]},
        "call_id": {"type": "string"},
        "queue": {"type": "string"},
        "priority": {"type": "integer"},
        "skill": {"type": "string"},
        "language": {"type": "string"},
        "caller_id": {"type": "string", "description": "as the network sent it"},
        "caller_number": _nullable("string", "its E.164 number"),
        "caller": {"type": "string", "description": "what a screen shows"},
        "account_number": _nullable("string", "verified only"),
        "reason": _nullable("string"),
        "path": {**TEXTS, "description": "the IVR node ids the call went through"},
        "enqueued_at": TIME,
        "state": {"type": "string", "description": "waiting, offered, connected, done, ..."},
        "agent_id": _nullable("integer"),
        "callback_id": _nullable("integer"),
        "not_before": NULL_TIME,
        "wait_seconds": _nullable("integer"),
        "talk_seconds": _nullable("integer"),
        "ended_at": NULL_TIME,
        "answered_at": NULL_TIME,
        "expires_at": NULL_TIME,
        "waited_seconds": _nullable("integer", "so far (active), else the recorded wait"),
    },
)
PLACE = {
    "description": "An entry's place in the queue.",
    "allOf": [
        ref("Entry"),
        _object(
            "Where it stands.",
            {
                "position": {"type": "integer", "minimum": 1},
                "estimate_seconds": _nullable("integer"),
                "agent": _nullable("string", "the agent it is offered to"),
                "can_take": {"type": "boolean", "description": "the asking agent can take it"},
            },
        ),
    ],
}
CALLBACK = _object(
    "A callback request (its reference code is never sent).",
    {
        "id": ID,
        "entry_id": ID,
        "number": {"type": "string"},
        "reason": _nullable("string"),
        "language": {"type": "string"},
        "account_number": _nullable("string"),
        "queue": {"type": "string"},
        "created_at": TIME,
        "expires_at": TIME,
        "attempts": {"type": "integer"},
        "max_attempts": {"type": "integer"},
        "state": {
            "enum": ["waiting", "dialing", "connected", "done", "failed", "expired", "cancelled"]
        },
        "last_attempt_at": NULL_TIME,
        "used_at": NULL_TIME,
        "entry_state": _nullable("string", "its entry's state while waiting or offered"),
        "can_call_now": {"type": "boolean"},
    },
)
NOTE = _object(
    "An agent's note at the end of a call.",
    {
        "at": TIME,
        "agent_name": {"type": "string"},
        "call_id": {"type": "string"},
        "disposition": {"type": "string"},
        "text": {"type": "string"},
        "account_number": _nullable("string"),
    },
)
CALL_STORY = _object(
    "The screen pop in words: who is calling, whether they verified, and what the IVR "
    "already told them (never a PIN or a code).",
    {
        "holder_name": _nullable("string", "null: no account named on this call"),
        "account_status": {"oneOf": [{"enum": ["active", "frozen", "closed"]}, {"type": "null"}]},
        "verified": {"type": "boolean"},
        "verification": {"type": "string", "description": "in words"},
        "reason": {"type": "string", "description": "in words"},
        "told": {**TEXTS, "description": "what the IVR said or did, a sentence each"},
        "path": {**TEXTS, "description": "the IVR's steps, in words"},
    },
)
DISPOSITIONS = list(_DISPOSITIONS)
QUEUE_STATS = _object(
    "One queue's figures (today: since midnight UTC).",
    {
        name: {"type": "integer"}
        for name in (
            *("waiting", "longest_wait_seconds", "handled_today"),
            *("abandoned_today", "callbacks_pending"),
        )
    }
    | {
        "queue": {"type": "string"},
        "aht_seconds": _nullable("integer", "null: no call handled yet (no data)"),
    },
)
SHOWN_TIME: Schema = {
    "type": ["string", "null"],
    "description": "shown in the complaints' time zone (2030-12-01 10:00 CST)",
}
COMPLAINT = _object(
    "A complaint and its deadlines.",
    {
        "id": ID,
        "reference": {"type": "string"},
        "account_number": _nullable("string"),
        "caller": _nullable("string"),
        "category": {"type": "string"},
        "state": {"enum": ["open", "acknowledged", "resolved"]},
        "assigned_to": _nullable("string"),
        "recording_id": _nullable("string"),
        "overdue": {"type": "boolean"},
        **{
            name: SHOWN_TIME
            for name in (
                *("due", "created_at", "acknowledge_by", "resolve_by"),
                *("acknowledged_at", "resolved_at"),
            )
        },
    },
)
COMPLAINT_FILE = {
    "description": "A complaint with its history, oldest first.",
    "allOf": [
        ref("Complaint"),
        _object(
            "Its history.",
            {
                "events": {
                    "type": "array",
                    "items": _object(
                        "One change.",
                        {
                            "at": SHOWN_TIME,
                            "actor": {"type": "string", "description": "ivr or agent:<username>"},
                            "action": {"type": "string"},
                            "note": _nullable("string"),
                        },
                    ),
                }
            },
        ),
    ],
}
ERROR = _object(
    "Every error's body.",
    {
        "error": {"type": "string", "description": "bad_request, unauthorized, forbidden, ..."},
        "message": {"type": "string"},
        "where": {"type": "string", "description": "the field at fault (400 only)"},
    },
    required=False,
) | {"required": ["error", "message"]}

SCHEMAS: dict[str, Schema] = {
    "Agent": AGENT,
    "AgentNow": AGENT_NOW,
    "CallStory": CALL_STORY,
    "Entry": ENTRY,
    "Place": PLACE,
    "Callback": CALLBACK,
    "Note": NOTE,
    "QueueStats": QUEUE_STATS,
    "Complaint": COMPLAINT,
    "ComplaintFile": COMPLAINT_FILE,
    "Error": ERROR,
}
