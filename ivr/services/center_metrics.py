"""The contact center's figures for Prometheus, read from the database at scrape time:
queue depth and the oldest wait per queue, agents by state.

``CenterCollector`` is a ``prometheus_client`` collector. Each scrape runs one bounded
read (``CenterFigures`` through the ``read`` port, ``ivr.store.center_figures``) under a
deadline (``BoundedCall``); a database that is away or slow makes ``ivr_database_up`` 0
and counts ``ivr_metrics_database_failures_total``, and the scrape still answers with
everything else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ivr.center import lifecycle as lc
from ivr.services import ports
from ivr.services.bounded_call import BoundedCall
from ivr.services.metrics import REGISTRY

logger = logging.getLogger(__name__)

#: Seconds a scrape waits for the database.
SCRAPE_TIMEOUT = 2.0

SCRAPE_FAILURES = Counter(
    "ivr_metrics_database_failures",
    "Scrapes whose database read failed or timed out (the queue and agent figures are "
    "missing from those scrapes).",
    registry=REGISTRY,
)


@dataclass(frozen=True)
class QueueFigure:
    """Entries of one kind (``call``, ``callback``) held in one queue (waiting or being
    offered), and when the longest-waiting of them joined."""

    queue: str
    kind: str
    depth: int
    oldest: datetime | None


@dataclass(frozen=True)
class CenterFigures:
    queues: tuple[QueueFigure, ...] = ()
    agents: Mapping[str, int] = field(default_factory=dict)


class CenterCollector(Collector):
    """``read``: one bounded query (the store's); ``queues``: the queues the flow names
    (each shown, 0 when empty); ``clock``: the hotline's, for the waits."""

    def __init__(
        self,
        read: Callable[[], CenterFigures],
        queues: Callable[[], Iterable[str]],
        clock: ports.Clock,
        timeout: float = SCRAPE_TIMEOUT,
    ) -> None:
        self.read = BoundedCall(read, timeout, "metrics-database-read")
        self.queues = queues
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "ivr_database_up", "1 if the last scrape read the database in time, else 0."
        )
        try:
            figures = self.read()
        except Exception as exc:  # away, slow, broken: the scrape goes on without them
            SCRAPE_FAILURES.inc()
            logger.warning("metrics: the database read failed (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from self._queues(figures)
        yield self._agents(figures)

    def _queues(self, figures: CenterFigures) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "ivr_queue_depth",
            "Entries held in a queue (waiting, or their agent's phone ringing), by kind.",
            labels=["queue", "kind"],
        )
        oldest = GaugeMetricFamily(
            "ivr_queue_oldest_wait_seconds",
            "How long the longest-held entry of a queue has waited (0: none waiting).",
            labels=["queue"],
        )
        counts: dict[tuple[str, str], int] = {}
        first: dict[str, datetime] = {}
        for figure in figures.queues:
            counts[figure.queue, figure.kind] = counts.get((figure.queue, figure.kind), 0)
            counts[figure.queue, figure.kind] += figure.depth
            if figure.oldest is not None:
                known = first.get(figure.queue)
                first[figure.queue] = figure.oldest if known is None else min(known, figure.oldest)
        names = sorted({*self._named(), *(queue for queue, _ in counts)})
        now = self.clock.now()
        for queue in names:
            for kind in (lc.CALL, lc.KIND_CALLBACK):
                depth.add_metric([queue, kind], counts.get((queue, kind), 0))
            since = first.get(queue)
            oldest.add_metric([queue], max(0.0, (now - since).total_seconds()) if since else 0.0)
        yield depth
        yield oldest

    def _agents(self, figures: CenterFigures) -> Metric:
        agents = GaugeMetricFamily("ivr_agents", "Agents by state.", labels=["state"])
        for state in sorted(lc.STATES[lc.AGENT] | set(figures.agents)):
            agents.add_metric([state], figures.agents.get(state, 0))
        return agents

    def _named(self) -> Iterable[str]:
        try:
            return list(self.queues())
        except Exception:  # no flow loaded: the queues the database knows
            return []
