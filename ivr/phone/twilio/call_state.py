"""The port Twilio's call state is kept behind: one saved state per CallSid, moved on one
claimed step at a time (``ivr.phone.twilio.steps``). The SQL adapter is
``ivr.store.twilio_calls.TwilioCalls``; it satisfies these protocols structurally (the
store imports nothing of ``ivr.phone``), and the composition root passes it in.

Any controller process may answer any webhook of a call, so each webhook *claims* its
step (``step = N - 1 -> N``, reply cleared, the call's state read in the same
transaction): one process wins, works out the reply and saves it; the others (and replays
of the same webhook) read that reply back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class SavedCall(Protocol):
    """A call as saved: at ``step``, with its state (``memo``, JSON) and the step's reply
    (None while the process that claimed the step works it out)."""

    @property
    def call_sid(self) -> str: ...
    @property
    def step(self) -> int: ...
    @property
    def memo(self) -> dict[str, Any]: ...
    @property
    def reply(self) -> str | None: ...
    @property
    def updated_at(self) -> datetime: ...


class CallStates(Protocol):
    """Twilio calls' saved state, keyed by CallSid; every method is one transaction."""

    def get(self, call_sid: str) -> SavedCall | None: ...

    def create(self, call_sid: str, memo: dict[str, Any], now: datetime) -> bool:
        """Add the call at step 0 (claimed: no reply yet); False if it exists already."""
        ...

    def claim(self, call_sid: str, step: int, now: datetime) -> dict[str, Any] | None:
        """Move the call from ``step - 1`` to ``step`` and return its state (``memo``);
        None if the call is not at ``step - 1`` (unknown, or another process claimed it)."""
        ...

    def save(
        self, call_sid: str, step: int, memo: dict[str, Any], reply: str, now: datetime
    ) -> None:
        """The claimed step's reply and the call's new state."""
        ...
