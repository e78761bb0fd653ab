"""How a queue node holds its callers (``Policy``): when a callback is offered, the hold
music, the maximum wait and the node for "nobody signed in"; read from the flow's
``QueuePolicy`` by ``policy_for``. Pure values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ivr.flow.model import QueuePolicy

OFFER, ONLY, NEVER = "offer", "only", "never"
#: Hold music segments (``STREAM FILE moh/hold-1`` ...), about 3 seconds each.
SEGMENTS = ("moh/hold-1", "moh/hold-2")


@dataclass(frozen=True)
class Policy:
    """How a queue node holds its callers."""

    callback: str = OFFER  # offer | only | never
    offer_after: float = 120.0  # offer a callback once the estimate reaches this (seconds)
    segments: tuple[str, ...] = SEGMENTS
    max_wait: float = math.inf  # seconds on hold before the max-wait rule (QueuePolicy)
    on_max_wait: str | None = None  # the node then, else the callback offer
    no_agents_node: str | None = None  # the node when nobody is signed in, else a callback
    announce_every: float = 0.0  # say the position again this often (0: on change only)
    #: Apply the "nobody signed in" rule. Off for a callback call the customer answered:
    #: its callback would be lost (the lifecycle's retry rules are the place for that).
    nobody_rule: bool = True


def policy_for(callback: str, offer_after: float, queue: QueuePolicy | None) -> Policy:
    """The hold policy of a queue node's ``Enqueue`` (None: a callback call's hold, which
    has no maximum wait, no node to go to and no "nobody signed in" rule)."""
    if queue is None:
        return Policy(callback, offer_after, nobody_rule=False)
    return Policy(
        callback,
        offer_after,
        max_wait=queue.max_wait,
        on_max_wait=queue.on_max_wait,
        no_agents_node=queue.no_agents_node,
        announce_every=queue.announce_every,
    )
