"""Figures derived from one ``Report`` that every view of it shows the same way: the
totals of the summary, the calls by hour of the day, and the nodes' traffic as the call
tree's picture takes it (``ivr.flow.diagram``)."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.flow.diagram import NodeTraffic
from ivr.services.insight import Report


@dataclass(frozen=True)
class Totals:
    """The whole period: calls (ended), in progress, contained (ended without a person),
    to a person, and the queues' callers offered, answered, answered within their
    target, abandoned."""

    calls: int
    in_progress: int
    contained: int
    to_person: int
    offered: int
    answered: int
    answered_within: int
    abandoned: int

    @property
    def containment(self) -> float | None:
        return self.contained / self.calls if self.calls else None

    @property
    def service_level(self) -> float | None:
        return self.answered_within / self.offered if self.offered else None


@dataclass(frozen=True)
class HourOfDay:
    hour: int  # 0 to 23, in the period's time zone
    calls: int
    offered: int
    answered_within: int


def totals(report: Report) -> Totals:
    return Totals(
        calls=report.calls,
        in_progress=report.in_progress,
        contained=sum(b.contained for b in report.branches),
        to_person=sum(b.to_person for b in report.branches),
        offered=sum(q.offered for q in report.queues),
        answered=sum(q.answered for q in report.queues),
        answered_within=sum(q.answered_within for q in report.queues),
        abandoned=sum(q.abandoned for q in report.queues),
    )


def by_hour_of_day(report: Report) -> list[HourOfDay]:
    """The 24 hours of the day (local), each summed over the period's days."""
    sums = [[0, 0, 0] for _ in range(24)]
    for figures in report.hours:
        row = sums[figures.hour.hour]
        row[0] += figures.calls
        row[1] += figures.offered
        row[2] += figures.answered_within
    return [HourOfDay(hour, *row) for hour, row in enumerate(sums)]


def node_traffic(report: Report) -> dict[str, NodeTraffic]:
    """Each node's entered, hung up and to-a-person counts, by node id."""
    return {n.node: NodeTraffic(n.entered, n.hung_up, n.to_person) for n in report.nodes}
