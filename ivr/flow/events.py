"""What drivers tell the engine: the caller pressed keys, said nothing, hung up, a use
case finished, or a recording ended."""

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


@dataclass(frozen=True)
class Recorded:
    """A ``Record`` ended: ``recording_id`` names what was kept (a file stem beside the
    database, or the phone system's recording id), None when nothing was (silence, no
    speech, the recording could not be stored). ``location``: the file name or URL."""

    recording_id: str | None
    location: str = ""


Event = Digits | Timeout | HungUp | Result | Recorded
