"""Reading a queue's policy (``max_wait``, ``on_max_wait``, ``when_no_agents``,
``announce_every``, ``ring_timeout``, ``after_agent``) from a ``queues:`` entry or a ``queue`` node.

Values are checked here (durations, limits); the node ids they name are checked once every
node is known: a ``queues:`` entry's by ``check_queue_targets``, a node's own like any
other target (``graph_checks.GraphChecker.targets``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from ivr.errors import SourcePosition
from ivr.flow import model
from ivr.flow.located import Fields, Reader, suggestion

#: Keys a ``queues:`` entry may have besides priority and skill.
QUEUE_KEYS = (
    *("max_wait", "on_max_wait", "when_no_agents", "announce_every", "ring_timeout"),
    "after_agent",
)
#: Keys a ``queue`` node may override (the ring time belongs to the queue's agents).
NODE_KEYS = ("max_wait", "on_max_wait", "when_no_agents", "announce_every", "after_agent")
#: A ``queues:`` entry's service-level target (seconds), and its bounds.
SERVICE_LEVEL = "service_level"
SERVICE_LEVEL_RANGE = (1.0, 3600.0)
#: Bounds that keep a policy sensible (seconds).
MIN_MAX_WAIT = 10.0
MIN_ANNOUNCE_EVERY = 20.0
RING_TIMEOUT_RANGE = (5.0, 120.0)


def read_policy(f: Fields, base: model.QueuePolicy) -> model.QueuePolicy:
    """``base`` with the keys ``f`` has; bad values are reported (at the value) and the
    base's kept."""
    policy = base
    if f.has("max_wait"):
        seconds = f.duration("max_wait", base.max_wait)
        if _at_least(f, "max_wait", seconds, MIN_MAX_WAIT):
            policy = replace(policy, max_wait=seconds)
    if f.has("on_max_wait"):
        policy = replace(policy, on_max_wait=f.text("on_max_wait") or None)
    if f.has("after_agent"):
        policy = replace(policy, after_agent=f.text("after_agent") or None)
    if f.has("when_no_agents"):
        policy = replace(policy, when_no_agents=f.text("when_no_agents") or base.when_no_agents)
    if f.has("announce_every"):
        seconds = f.duration("announce_every", base.announce_every)
        if seconds == 0 or _at_least(f, "announce_every", seconds, MIN_ANNOUNCE_EVERY):
            policy = replace(policy, announce_every=seconds)
    if f.has("ring_timeout"):
        seconds = f.duration("ring_timeout", base.ring_timeout)
        low, high = RING_TIMEOUT_RANGE
        if low <= seconds <= high:
            policy = replace(policy, ring_timeout=seconds)
        else:
            f.reader.error(
                f.position("ring_timeout"),
                f"{f.what}: ring_timeout must be from {low:g}s to {high:g}s",
            )
    return policy


def read_service_level(f: Fields) -> float:
    """The queue's ``service_level`` (answered within it), checked; the default if absent."""
    seconds = f.duration(SERVICE_LEVEL, model.DEFAULT_SERVICE_LEVEL)
    low, high = SERVICE_LEVEL_RANGE
    if low <= seconds <= high:
        return seconds
    f.reader.error(
        f.position(SERVICE_LEVEL),
        f"{f.what}: service_level must be from {low:g}s to {high:g}s",
    )
    return model.DEFAULT_SERVICE_LEVEL


def _at_least(f: Fields, name: str, seconds: float, least: float) -> bool:
    if seconds >= least:
        return True
    word = "0 (off) or " if name == "announce_every" else ""
    f.reader.error(f.position(name), f"{f.what}: {name} must be {word}at least {least:g}s")
    return False


def target_positions(f: Fields) -> dict[str, SourcePosition]:
    """Where the policy's node targets were written (``when_no_agents: callback`` is none)."""
    out = {}
    if f.has("on_max_wait"):
        out["on_max_wait"] = f.position("on_max_wait")
    if f.has("after_agent"):
        out["after_agent"] = f.position("after_agent")
    if f.has("when_no_agents") and f.text("when_no_agents") != model.CALLBACK_AT_ONCE:
        out["when_no_agents"] = f.position("when_no_agents")
    return out


def check_queue_targets(
    reader: Reader,
    queues: Mapping[str, model.QueueSpec],
    written: Mapping[str, Mapping[str, SourcePosition]],
    nodes: Iterable[str],
) -> None:
    """Every node a ``queues:`` entry's policy names must exist."""
    known = list(nodes)
    for name, spec in queues.items():
        for key, target in spec.policy.targets():
            if target in known:
                continue
            pos = written.get(name, {}).get(key)
            if pos is None:
                continue
            hint = suggestion(target, known)
            reader.error(
                pos, f"queue '{name}': {key} goes to '{target}', which is not a node{hint}"
            )
