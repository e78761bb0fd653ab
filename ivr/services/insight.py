"""What happened on the hotline over a period: the figures of the call tree's nodes, of the
branches callers chose, of the queues and of the surveys (``Report``), and the port that
reads them from the call records (``InsightQueries``; ``ivr.store`` implements it in SQL
that runs on SQLite and PostgreSQL). ``ivr report``, ``ivr graph --stats`` and the
supervisor's reports page all show one ``Report``.

A period is ``[start, end)`` in UTC, chosen in a time zone (``tz``): "today" is the
hotline's day there, and the calls per hour are that zone's hours. A call belongs to the
period it started in. Calls still in progress are counted apart (``in_progress``), never in
the funnel: their path is not finished.
"""

from __future__ import annotations

import abc
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

#: Service level: answered within this many seconds, unless the queue says otherwise.
DEFAULT_SERVICE_LEVEL_SECONDS = 20


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Period:
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC; not included
    tz: str  # IANA name the period was chosen in (e.g. "Asia/Shanghai")


@dataclass(frozen=True)
class NodeFigures:
    """One node of the call tree: calls that entered it (once or more), calls that hung up
    while there, keys the caller did not press in time and wrong keys (counted per event,
    not per call), and calls that left it for a person (a queue or a transfer)."""

    node: str
    kind: str  # the node's type: menu, gather, say, queue...
    entered: int
    hung_up: int
    timed_out: int
    invalid: int
    to_person: int

    @property
    def drop_rate(self) -> float | None:
        return _share(self.hung_up, self.entered)


@dataclass(frozen=True)
class BranchFigures:
    """Calls by the reason they gave (the branch chosen: ``password_reset``...; ``None``:
    no branch chosen). Contained: ended without a person (self-service did it)."""

    reason: str | None
    calls: int
    contained: int
    to_person: int
    abandoned: int
    verified: int
    verify_failed: int  # wrong account or PIN, at least once, never verified
    locked: int

    @property
    def containment(self) -> float | None:
        return _share(self.contained, self.calls)


@dataclass(frozen=True)
class TransferFigures:
    """Why calls went to a person: the branch, the node they left for it, and how they
    left it (``chose``: a key that leads there; ``failed``: tries used up; ``max_visits``;
    ``error``: a use case failed; ``locked``; ``verify_failed``; ``routed``: the flow
    sent it, e.g. a use case's outcome or the hours; ``callback``: a callback call we
    placed, node ``callback``)."""

    reason: str | None
    from_node: str
    how: str
    calls: int


@dataclass(frozen=True)
class QueueFigures:
    queue: str
    offered: int  # callers who reached the queue (callback requests not included)
    answered: int
    abandoned: int
    abandoned_wait: float | None  # average seconds waited by those who hung up
    service_level_seconds: int
    answered_within: int  # answered within service_level_seconds
    speed_of_answer: float | None  # average seconds waited by those answered
    handle_time: float | None  # average seconds talked (None: no call answered)
    callbacks_requested: int
    callbacks_completed: int
    callbacks_failed: int
    abandoned_within: int = 0  # hung up before service_level_seconds

    @property
    def service_level(self) -> float | None:
        """Answered within the target, of the callers offered who did not hang up before
        it (abandoned within the target are not held against the queue)."""
        return _share(self.answered_within, self.offered - self.abandoned_within)


@dataclass(frozen=True)
class HourFigures:
    hour: datetime  # the hour's start, aware, in the period's time zone
    calls: int  # calls that started in the hour
    offered: int  # callers who reached a queue in the hour
    answered_within: int


@dataclass(frozen=True)
class SurveyFigures:
    """Post-call survey scores (1 to 5) of one queue, one agent, or all calls (``scope``
    ``queue``, ``agent``, ``all``; ``name`` the queue, the agent's username, or "")."""

    scope: str
    name: str
    responses: int
    average: float | None
    comments: int = 0


@dataclass(frozen=True)
class Report:
    period: Period
    calls: int  # calls that started in the period and have ended
    in_progress: int
    nodes: tuple[NodeFigures, ...]
    branches: tuple[BranchFigures, ...]
    transfers: tuple[TransferFigures, ...]
    queues: tuple[QueueFigures, ...]
    hours: tuple[HourFigures, ...]
    surveys: tuple[SurveyFigures, ...] = ()
    #: Complaints opened in the period and open now, overdue among them (issue 13 item 6).
    complaints: dict[str, int] = field(default_factory=dict)

    def node(self, node_id: str) -> NodeFigures | None:
        return next((n for n in self.nodes if n.node == node_id), None)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: datetimes as ISO 8601, the derived shares included."""

        def plain(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return [plain(v) for v in value]
            return value

        data = plain(asdict(self))
        for raw, figures in zip(data["nodes"], self.nodes, strict=True):
            raw["drop_rate"] = figures.drop_rate
        for raw, branch in zip(data["branches"], self.branches, strict=True):
            raw["containment"] = branch.containment
        for raw, queue in zip(data["queues"], self.queues, strict=True):
            raw["service_level"] = queue.service_level
        return data  # type: ignore[no-any-return]


class InsightQueries(abc.ABC):
    """The figures, read from call records, queue entries, callbacks and survey answers.
    Every method is a few aggregate queries, fast on a million call records."""

    @abc.abstractmethod
    def report(
        self,
        period: Period,
        kinds: dict[str, str],
        service_levels: dict[str, int],
        now: datetime | None = None,
    ) -> Report:
        """The report for ``period``. ``kinds``: each node's type, from the flow (a node
        in the records but no longer in the flow is kind ``gone``); ``service_levels``:
        the seconds of each queue's target (others: ``DEFAULT_SERVICE_LEVEL_SECONDS``);
        ``now``: the clock's time, which complaints are open or overdue at (None: as at
        the period's end)."""
