"""The contact centre's records as JSON-ready dicts: the API sends them, the console's
script and templates show them. Times are ISO 8601 (UTC); sets become sorted lists; a few
durations the screen needs are added, computed from the hotline's clock."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence, Set
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ivr.center import lifecycle as lc

if TYPE_CHECKING:
    from ivr.services.contact_agents import Agent
    from ivr.services.contact_callbacks import Callback
    from ivr.services.contact_entries import Entry
    from ivr.services.contact_snapshots import AgentNow, Assignment, Desk, Place

Json = dict[str, Any]
ACTIVE_ENTRY = frozenset(lc.ACTIVE_ENTRY_STATES)


def plain(value: Any) -> Any:
    """Dataclasses, datetimes, sets and tuples as JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Set):
        return sorted(plain(v) for v in value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(v) for v in value]
    return value


def seconds_between(start: datetime | None, end: datetime) -> int | None:
    return None if start is None else max(0, int((end - start).total_seconds()))


def agent(item: Agent, now: datetime) -> Json:
    body: Json = plain(item)
    body["seconds_in_state"] = seconds_between(item.state_since, now)
    left = None
    if item.state == lc.WRAP_UP and item.wrap_up_until is not None:
        left = max(0, int((item.wrap_up_until - now).total_seconds() + 0.999))
    body["wrap_up_seconds_left"] = left
    return body


def agent_now(item: AgentNow, now: datetime) -> Json:
    """The agent, with ``call``: the call they are offered or on (caller, queue, since
    it was offered or answered), or None."""
    body = agent(item.agent, now)
    call = item.entry
    body["call"] = None
    if call is not None:
        since = call.answered_at if call.state == lc.CONNECTED else call.offered_at
        body["call"] = {
            "entry_id": call.id,
            "state": call.state,
            "caller": entry(call, now)["caller"],
            "queue": call.queue,
            "since": None if since is None else since.isoformat(),
            "seconds": seconds_between(since, now),
        }
    return body


def entry(item: Entry, now: datetime) -> Json:
    """The entry, with ``caller_number`` (E.164 or None) and ``caller``, what a screen
    shows: the number, and the caller id as sent after it when that says more."""
    body: Json = plain(item)
    number = item.caller_number
    body["caller_number"] = number
    raw = item.caller_id
    body["caller"] = raw if number is None else number if raw == number else f"{number} ({raw})"
    body["waited_seconds"] = (
        seconds_between(item.enqueued_at, now) if item.state in ACTIVE_ENTRY else item.wait_seconds
    )
    return body


def place(item: Place, now: datetime, viewer: Agent | None = None) -> Json:
    body = entry(item.entry, now)
    body["position"] = item.position
    body["estimate_seconds"] = item.estimate_seconds
    body["agent"] = None if item.agent is None else item.agent.name
    if viewer is not None:
        body["can_take"] = (
            item.entry.skill in viewer.skills and item.entry.language in viewer.languages
        )
    return body


def assignment(item: Assignment, now: datetime) -> Json:
    return {"entry": entry(item.entry, now), "agent": agent(item.agent, now)}


def callback(item: Callback, entry_state: str | None = None) -> Json:
    """``entry_state``: its queue entry's state, when it is waiting or offered; only a
    callback whose entry waits can be called now."""
    body: Json = plain(item)
    body["entry_state"] = entry_state
    body["can_call_now"] = item.state == lc.CB_WAITING and entry_state == lc.WAITING
    return body


def callbacks(items: Sequence[Callback], places: Sequence[Place]) -> list[Json]:
    states = {p.entry.id: p.entry.state for p in places}
    return [callback(c, states.get(c.entry_id)) for c in items]


def desk(item: Desk, now: datetime) -> Json:
    return {
        "agent": agent(item.agent, now),
        "entry": None if item.entry is None else entry(item.entry, now),
        "callback": None if item.callback is None else callback(item.callback),
        "notes": [plain(note) for note in item.notes],
        "story": None if item.story is None else plain(item.story),
        "now": now.isoformat(),
    }
