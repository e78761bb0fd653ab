"""What ``/readyz`` reports: each check's name, whether it passed, and a short detail
that names no secret (never the database URL or its password)."""

from __future__ import annotations

from dataclasses import dataclass

#: The checks, in the order they are made.
DATABASE, SCHEMA, FLOW = "database", "schema", "flow"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = "ok"


def ready(checks: list[Check]) -> bool:
    return all(check.ok for check in checks)
