"""The hold's state and policy as JSON in a Twilio call's memo (and back)."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from ivr.center import hold, hold_policy


def hold_to_dict(state: hold.HoldState) -> dict[str, Any]:
    return asdict(state)


def hold_from_dict(raw: dict[str, Any]) -> hold.HoldState:
    was_said = raw.get("said")
    since = raw.get("since")
    return hold.HoldState(
        said=hold.Said(**was_said) if was_said else None,
        offer_made=bool(raw.get("offer_made")),
        callback_started=bool(raw.get("callback_started")),
        segment=int(raw.get("segment", 0)),
        since=None if since is None else float(since),
        max_wait_done=bool(raw.get("max_wait_done")),
        nobody_told=bool(raw.get("nobody_told")),
    )


def policy_to_dict(policy: hold_policy.Policy) -> dict[str, Any]:
    """JSON-ready (no infinity: PostgreSQL's JSON refuses it)."""
    raw = asdict(policy)
    raw.pop("segments")
    raw["max_wait"] = None if math.isinf(policy.max_wait) else policy.max_wait
    return raw


def policy_from_dict(raw: dict[str, Any]) -> hold_policy.Policy:
    max_wait = raw.get("max_wait")
    return hold_policy.Policy(
        callback=str(raw["callback"]),
        offer_after=float(raw["offer_after"]),
        max_wait=math.inf if max_wait is None else float(max_wait),
        on_max_wait=raw.get("on_max_wait"),
        no_agents_node=raw.get("no_agents_node"),
        announce_every=float(raw.get("announce_every", 0.0)),
        nobody_rule=bool(raw.get("nobody_rule", True)),
    )
