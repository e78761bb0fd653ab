"""The state of one call in the flow: small, immutable and JSON-serialisable.

It never holds secure digits (a PIN): those go straight from the event to the use case
that needs them, so a state can be stored between webhooks without leaking anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ivr.errors import IvrError

#: Outcomes of a call that ended in the flow.
ABANDONED = "abandoned"
QUEUED = "queued"
TRANSFERRED = "transferred"

#: How a call's verification went (``CallState.verification``).
VERIFIED, VERIFY_FAILED, LOCKED = "success", "failure", "locked"
#: The right PIN of a closed account: not verified, not a failure either.
CLOSED = "closed"
#: How a call left a node for a person (``CallState.handoff``): a key that leads there,
#: tries used up, a node visited too often, a use case that failed, a locked account, a
#: verification that failed, or the flow's own routing (a use case's outcome, hours).
CHOSE, FAILED, MAX_VISITS, ERROR, ROUTED = "chose", "failed", "max_visits", "error", "routed"
LOCKED_OUT, NOT_VERIFIED = "locked", "verify_failed"


@dataclass(frozen=True)
class CallStart:
    """What a driver knows when a call arrives."""

    call_id: str
    ani: str = ""
    dnid: str = ""
    language: str | None = None  # known already (channel language): skips `language` nodes
    started_at: float = 0.0  # seconds since the epoch


@dataclass(frozen=True)
class CallState:
    node: str
    language: str
    started_at: float
    data: Mapping[str, str] = field(default_factory=dict)
    language_known: bool = False
    tries: int = 0  # wrong or missing answers at the current input node
    visits: Mapping[str, int] = field(default_factory=dict)  # entries into max_visits nodes
    attempts: Mapping[str, int] = field(default_factory=dict)  # failed checks per verify node
    path: tuple[str, ...] = ()
    outcome: str | None = None  # set once the call has left the flow
    # -- what the reports need (ivr.services.insight) --
    timeouts: Mapping[str, int] = field(default_factory=dict)  # per node, every time
    invalid: Mapping[str, int] = field(default_factory=dict)  # wrong keys per node
    verification: str | None = None  # VERIFIED, VERIFY_FAILED (never verified), LOCKED, CLOSED
    left: tuple[str, str] | None = None  # the last node decided on, and how (CHOSE...)
    handoff: tuple[str, str] | None = None  # the node the call left for a person, and how

    @property
    def ended(self) -> bool:
        return self.outcome is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "language": self.language,
            "started_at": self.started_at,
            "data": dict(self.data),
            "language_known": self.language_known,
            "tries": self.tries,
            "visits": dict(self.visits),
            "attempts": dict(self.attempts),
            "path": list(self.path),
            "outcome": self.outcome,
            "timeouts": dict(self.timeouts),
            "invalid": dict(self.invalid),
            "verification": self.verification,
            "left": None if self.left is None else list(self.left),
            "handoff": None if self.handoff is None else list(self.handoff),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> CallState:
        try:
            return cls(
                node=str(raw["node"]),
                language=str(raw["language"]),
                started_at=float(raw["started_at"]),
                data={str(k): str(v) for k, v in raw.get("data", {}).items()},
                language_known=_flag(raw.get("language_known", False)),
                tries=int(raw.get("tries", 0)),
                visits={str(k): int(v) for k, v in raw.get("visits", {}).items()},
                attempts={str(k): int(v) for k, v in raw.get("attempts", {}).items()},
                path=tuple(str(p) for p in raw.get("path", ())),
                outcome=_text(raw.get("outcome")),
                timeouts={str(k): int(v) for k, v in raw.get("timeouts", {}).items()},
                invalid={str(k): int(v) for k, v in raw.get("invalid", {}).items()},
                verification=_text(raw.get("verification")),
                left=_pair(raw.get("left")),
                handoff=_pair(raw.get("handoff")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise IvrError(f"stored call state is not valid: {exc!r}") from exc


def with_data(state: CallState, values: Mapping[str, str]) -> CallState:
    """``state`` with ``values`` added to its call data."""
    if not values:
        return state
    return replace(state, data={**state.data, **values})


def counted(counts: Mapping[str, int], node: str) -> dict[str, int]:
    """``counts`` with one more for ``node``."""
    return {**counts, node: counts.get(node, 0) + 1}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _pair(value: Any) -> tuple[str, str] | None:
    if value is None:
        return None
    first, second = value
    return str(first), str(second)


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false, got {value!r}")


def handoff_of(state: CallState) -> tuple[str, str]:
    """How a call that just reached a person's node (last in its path) left for it: the
    last decision (``left``), else the node before it, by the flow's own routing."""
    if state.left is not None:
        return state.left
    before = state.path[-2] if len(state.path) > 1 else state.path[-1]
    return before, ROUTED
