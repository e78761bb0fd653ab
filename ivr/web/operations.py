"""The operations endpoints, for a scraper and a load balancer, not a person: no sign-in,
no rate limit, nothing secret in them.

- ``GET /metrics``: Prometheus' text format (docs/operations.md lists the names);
- ``GET /healthz``: the process answers (200, touches nothing);
- ``GET /readyz``: 200 when the database answers in time at the schema this code expects
  and the flow is loaded, else 503; the body names each check either way.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from prometheus_client.exposition import choose_encoder

from ivr.services.readiness import ready
from ivr.web.context import hotline

NAME = "operations"
bp = Blueprint(NAME, __name__)


@bp.get("/metrics")
def metrics() -> Response:
    # Prometheus' text format, or OpenMetrics for a scraper that asks for it.
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    body = encode(hotline().operations.registry)
    return Response(body, content_type=content_type, headers=_uncached())


@bp.get("/healthz")
def healthz() -> Response:
    response = jsonify(status="alive")
    response.headers.update(_uncached())
    return response


@bp.get("/readyz")
def readyz() -> Response:
    checks = hotline().operations.readiness()
    body = {
        "status": "ready" if ready(checks) else "not ready",
        "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in checks},
    }
    response = jsonify(body)
    response.status_code = 200 if ready(checks) else 503
    response.headers.update(_uncached())
    return response


def _uncached() -> dict[str, str]:
    return {"Cache-Control": "no-store"}
