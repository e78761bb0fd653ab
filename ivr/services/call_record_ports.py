"""The call records' value (``CallRecord``) and ports: the table they are kept in
(``CallRecords``) and the spool they wait in while the database cannot take them
(``RecordSpool``). ``ivr.services.call_records`` writes them; ``ivr.store`` implements
the ports."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

#: The outcome the reaper gives a record whose call's process stopped writing it.
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class CallRecord:
    """What a call leaves behind: who, why, the path through the flow, how it ended.
    While the call is in progress the record is open: ``outcome`` and ``ended_at`` are
    None and ``seen_at`` is when this version of it was taken. It never holds a PIN or a
    code (the spool writes it to a file)."""

    call_id: str
    channel: str
    caller_id: str
    language: str
    reason: str | None
    account_number: str | None  # verified accounts only
    path: tuple[str, ...]
    last_node: str
    outcome: str | None
    queue: str | None
    started_at: datetime
    ended_at: datetime | None
    seen_at: datetime | None = None
    #: What the reports need (``ivr.services.insight``): keys not pressed in time and
    #: wrong keys per node, how the verification went (success, failure, locked), and
    #: the node the call left for a person and how (chose, failed, max_visits...).
    timeouts: Mapping[str, int] = field(default_factory=dict)
    invalid: Mapping[str, int] = field(default_factory=dict)
    verification: str | None = None
    handoff_node: str | None = None
    handoff: str | None = None

    @property
    def open(self) -> bool:
        return self.outcome is None

    @property
    def last_seen(self) -> datetime:
        """When the call was last known alive: ``seen_at``, else its end or start."""
        return self.seen_at or self.ended_at or self.started_at


class CallRecords(abc.ABC):
    """Call records, written from the call's first second to its end. ``save`` may see
    the versions of one record in any order and more than once (a spool replays them), so
    it merges: an open version replaces an open (or ``interrupted``) row seen no later;
    a closed version replaces an open or ``interrupted`` row (the call was alive after
    all); a row closed with its real outcome is final."""

    @abc.abstractmethod
    def save(self, record: CallRecord) -> None: ...

    @abc.abstractmethod
    def close_interrupted(self, seen_before: datetime, limit: int) -> list[str]:
        """Close as ``interrupted`` (ended when last seen, at the last node it reached)
        up to ``limit`` open records last seen before ``seen_before`` whose call has no
        active queue entry (a caller on hold or talking is alive), nor is a callback call
        whose customer is held or talking (``Callback.call_id``); each is a
        compare-and-set, so several reapers never close one twice. Returns the call ids
        this unit of work closed."""


class RecordSpool(abc.ABC):
    """Where call records wait while the database cannot take them (``keep``), until a
    dispatcher round replays them (``claim``, ``CallRecords.save``, ``forget``)."""

    @abc.abstractmethod
    def keep(self, record: CallRecord) -> None:
        """Keep the newest version of the record; raises ``OSError`` if it cannot."""

    @abc.abstractmethod
    def claim(self, limit: int) -> list[tuple[str, CallRecord]]:
        """Up to ``limit`` kept records, each with a token for ``forget`` or
        ``release``."""

    @abc.abstractmethod
    def forget(self, token: str) -> None:
        """The claimed record is in the database: drop it."""

    @abc.abstractmethod
    def release(self, token: str) -> None:
        """The claimed record could not be replayed: keep it (unless newer is kept)."""
