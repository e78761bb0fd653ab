"""What the operations endpoints read of one process: its Prometheus registry (the
process's metrics of ``ivr.services.metrics``, the contact center's figures read at
scrape time, the process collector) and its readiness checks (``/readyz``: the database
reachable and at the schema this code expects, the flow loaded), each bounded in time.

``/metrics``, ``/healthz`` and ``/readyz`` are served by the web (``ivr.web.operations``);
``ivr fastagi`` serves ``/metrics`` on ``IVR_METRICS_PORT`` (``serve_metrics``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from ivr.flow.model import Flow
from ivr.services import ports
from ivr.services.bounded_call import BoundedCall
from ivr.services.center_metrics import CenterCollector
from ivr.services.metrics import REGISTRY
from ivr.services.readiness import DATABASE, FLOW, SCHEMA, Check
from ivr.store.center_figures import read_center_figures
from ivr.store.health import database_checks

logger = logging.getLogger(__name__)

#: Seconds ``/readyz`` waits for the database.
READY_TIMEOUT = 3.0


class _ProcessMetrics(Collector):
    """The process-wide metrics (``ivr.services.metrics.REGISTRY``) inside a registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


@dataclass
class Operations:
    """``database`` and ``flow`` are the process's own (built on first use)."""

    database: Callable[[], Engine]
    flow: Callable[[], Flow]
    clock: ports.Clock
    ready_timeout: float = READY_TIMEOUT

    def __post_init__(self) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_ProcessMetrics())
        self.registry.register(
            CenterCollector(lambda: read_center_figures(self.database()), self._queues, self.clock)
        )
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self._database = BoundedCall(
            lambda: database_checks(self.database()), self.ready_timeout, "readiness-database"
        )

    def readiness(self) -> list[Check]:
        """Each check, in order (``ivr.services.readiness``)."""
        return [*self._database_checks(), self._flow_check()]

    def _database_checks(self) -> list[Check]:
        try:
            return self._database()
        except TimeoutError:
            reason = f"no answer within {self.ready_timeout:g} s"
        except Exception as exc:  # the class only: a driver's message may name the server
            reason = f"unreachable ({type(exc).__name__})"
        logger.warning("readiness: the database is %s", reason)
        return [Check(DATABASE, False, reason), Check(SCHEMA, False, "not checked")]

    def _flow_check(self) -> Check:
        try:
            flow = self.flow()
        except Exception as exc:
            return Check(FLOW, False, f"not loaded ({type(exc).__name__})")
        return Check(FLOW, True, f"{len(flow.nodes)} nodes")

    def _queues(self) -> Iterable[str]:
        return list(self.flow().queues)


def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> Any:
    """``/metrics`` on ``host:port`` (prometheus_client's own server, in a daemon
    thread); returns the server (``shutdown()`` stops it)."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=host, registry=registry)
    logger.info("metrics on http://%s:%d/metrics", host, server.server_address[1])
    return server
