"""What drivers tell the engine: the caller pressed keys, said nothing, hung up, or a
use case finished."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Digits:
    """Keys the caller pressed for the current menu or gather (finish key may be included)."""

    digits: str


@dataclass(frozen=True)
class Timeout:
    """The caller pressed nothing before the timeout."""


@dataclass(frozen=True)
class HungUp:
    """The caller hung up (or the line dropped)."""


@dataclass(frozen=True)
class Result:
    """A use case finished with ``outcome``; ``data`` is added to the call data."""

    outcome: str
    data: Mapping[str, str] = field(default_factory=dict)


Event = Digits | Timeout | HungUp | Result
