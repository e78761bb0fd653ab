"""A ``Report`` as CSV: one flat table per section, one file each, in a folder
(``ivr report --csv FOLDER``). The layout (docs/reports.md): a header row, then one row per
node, branch, transfer, queue, hour, survey scope or complaint figure; shares as fractions
(0.25), seconds as decimals, an empty cell where a figure has no value (no calls)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from ivr.services.insight import Report
from ivr.services.report_figures import totals

Row = Sequence[object]


def _cell(value: object) -> object:
    return "" if value is None else value


def sections(report: Report) -> dict[str, tuple[Row, Iterable[Row]]]:
    """Each section's header and rows, by file name (without ``.csv``)."""
    sums = totals(report)
    period = report.period
    return {
        "summary": (
            ("figure", "value"),
            [
                ("start", period.start.isoformat()),
                ("end", period.end.isoformat()),
                ("tz", period.tz),
                ("calls", sums.calls),
                ("in_progress", sums.in_progress),
                ("contained", sums.contained),
                ("containment", sums.containment),
                ("to_person", sums.to_person),
                ("offered", sums.offered),
                ("answered", sums.answered),
                ("answered_within", sums.answered_within),
                ("abandoned", sums.abandoned),
                ("service_level", sums.service_level),
            ],
        ),
        "nodes": (
            ("node", "kind", "entered", "hung_up", "drop_rate", "timed_out", "invalid",
             "to_person"),
            [(n.node, n.kind, n.entered, n.hung_up, n.drop_rate, n.timed_out, n.invalid,
              n.to_person) for n in report.nodes],
        ),
        "branches": (
            ("reason", "calls", "contained", "containment", "to_person", "abandoned",
             "verified", "verify_failed", "locked"),
            [(b.reason, b.calls, b.contained, b.containment, b.to_person, b.abandoned,
              b.verified, b.verify_failed, b.locked) for b in report.branches],
        ),
        "transfers": (
            ("reason", "from_node", "how", "calls"),
            [(t.reason, t.from_node, t.how, t.calls) for t in report.transfers],
        ),
        "queues": (
            ("queue", "offered", "answered", "abandoned", "abandoned_wait",
             "service_level_seconds", "answered_within", "service_level", "speed_of_answer",
             "handle_time", "callbacks_requested", "callbacks_completed", "callbacks_failed"),
            [(q.queue, q.offered, q.answered, q.abandoned, q.abandoned_wait,
              q.service_level_seconds, q.answered_within, q.service_level, q.speed_of_answer,
              q.handle_time, q.callbacks_requested, q.callbacks_completed, q.callbacks_failed)
             for q in report.queues],
        ),
        "hours": (
            ("hour", "calls", "offered", "answered_within"),
            [(h.hour.isoformat(), h.calls, h.offered, h.answered_within) for h in report.hours],
        ),
        "surveys": (
            ("scope", "name", "responses", "average", "comments"),
            [(s.scope, s.name, s.responses, s.average, s.comments) for s in report.surveys],
        ),
        "complaints": (("figure", "count"), list(report.complaints.items())),
    }  # fmt: skip


def write_csv(report: Report, folder: Path) -> list[Path]:
    """Write every section into ``folder`` (made if missing); the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (header, rows) in sections(report).items():
        path = folder / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows([_cell(v) for v in row] for row in rows)
        written.append(path)
    return written
