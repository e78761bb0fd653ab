"""A ``Report`` as tables in the terminal (``rich``): the summary, the nodes' funnel, the
branches, the transfers, the queues, the calls per hour, the surveys and the complaints.
What each figure means: docs/reports.md."""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ivr.flow.diagram import DROP_LEVELS
from ivr.services import periods
from ivr.services.insight import Report
from ivr.services.report_figures import by_hour_of_day, totals

NONE = "—"
#: Drop-off at or above this is shown in red in the funnel.
HIGH_DROP = DROP_LEVELS[0][0]


def share(value: float | None) -> str:
    return NONE if value is None else f"{value:.1%}"


def seconds(value: float | None) -> str:
    return NONE if value is None else f"{value:.1f} s"


def average(value: float | None) -> str:
    return NONE if value is None else f"{value:.2f}"


def _table(title: str, *columns: str, words: int = 1) -> Table:
    """A table whose first ``words`` columns are text (left), the others figures (right)."""
    table = Table(title=title, title_justify="left", title_style="bold")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i < words else "right", no_wrap=True)
    return table


def _row(table: Table, *cells: str | Text) -> None:
    """Cells as plain text: a node or branch name is never read as rich markup."""
    table.add_row(*(cell if isinstance(cell, Text) else Text(cell) for cell in cells))


def summary(report: Report) -> Table:
    sums = totals(report)
    table = _table("Summary", "figure", "value")
    rows = (
        ("calls (ended)", str(sums.calls)),
        ("in progress (not counted)", str(sums.in_progress)),
        ("contained (no person)", f"{sums.contained} ({share(sums.containment)})"),
        ("to a person", str(sums.to_person)),
        ("queue callers offered", str(sums.offered)),
        ("answered", str(sums.answered)),
        ("abandoned in queue", str(sums.abandoned)),
        ("service level", share(sums.service_level)),
    )
    for row in rows:
        _row(table, *row)
    return table


def nodes(report: Report) -> Table:
    table = _table(
        "Call tree funnel (per node)",
        "node", "kind", "entered", "hung up", "drop rate", "timed out", "invalid", "to person",
        words=2,
    )  # fmt: skip
    quiet = sum(1 for n in report.nodes if not n.entered)
    if quiet:
        table.caption = f"nodes no call entered, not shown: {quiet} (--json and --csv list them)"
    for n in report.nodes:
        if not n.entered:
            continue
        high = n.drop_rate is not None and n.drop_rate >= HIGH_DROP
        drop = Text(share(n.drop_rate), style="red" if high else "")
        _row(
            table,
            n.node, n.kind, str(n.entered), str(n.hung_up), drop,
            str(n.timed_out), str(n.invalid), str(n.to_person),
        )  # fmt: skip
    return table


def branches(report: Report) -> Table:
    table = _table(
        "Branches (reason for calling)",
        "reason", "calls", "contained", "containment", "to person", "abandoned",
        "verified", "verify failed", "locked",
    )  # fmt: skip
    for b in report.branches:
        _row(
            table,
            b.reason or "(none chosen)", str(b.calls), str(b.contained), share(b.containment),
            str(b.to_person), str(b.abandoned), str(b.verified), str(b.verify_failed),
            str(b.locked),
        )  # fmt: skip
    return table


def transfers(report: Report) -> Table:
    table = _table("Transfers to a person", "reason", "from node", "how", "calls", words=3)
    for t in report.transfers:
        _row(table, t.reason or "(none chosen)", t.from_node, t.how, str(t.calls))
    return table


def queues(report: Report) -> Table:
    table = _table(
        "Queues",
        "queue", "offered", "answered", "abandoned", "abandon wait", "service level",
        "within", "ASA", "AHT", "callbacks asked", "done", "failed",
    )  # fmt: skip
    for q in report.queues:
        _row(
            table,
            q.queue, str(q.offered), str(q.answered), str(q.abandoned),
            seconds(q.abandoned_wait), share(q.service_level), f"{q.service_level_seconds} s",
            seconds(q.speed_of_answer), seconds(q.handle_time), str(q.callbacks_requested),
            str(q.callbacks_completed), str(q.callbacks_failed),
        )  # fmt: skip
    return table


def hours(report: Report) -> Table:
    first, last = periods.first_and_last(report.period)
    title = "Calls per hour" if first == last else "Calls per hour of the day (all days)"
    hour = f"hour ({report.period.tz})"
    table = _table(title, hour, "calls", "offered", "within target")
    for h in by_hour_of_day(report):
        if h.calls or h.offered:
            _row(table, f"{h.hour:02d}:00", str(h.calls), str(h.offered), str(h.answered_within))
    return table


def surveys(report: Report) -> Table:
    table = _table(
        "Post-call surveys (1 to 5)", "scope", "name", "responses", "average", "comments"
    )
    for s in report.surveys:
        _row(table, s.scope, s.name, str(s.responses), average(s.average), str(s.comments))
    return table


def complaints(report: Report) -> Table:
    table = _table("Complaints", "figure", "count")
    for name, count in report.complaints.items():
        _row(table, name, str(count))
    return table


def tables(report: Report) -> Iterator[Table]:
    """Every section; surveys and complaints only when there are some."""
    yield from (summary(report), nodes(report), branches(report), transfers(report))
    yield from (queues(report), hours(report))
    if report.surveys:
        yield surveys(report)
    if report.complaints:
        yield complaints(report)


def show(report: Report, console: Console) -> None:
    console.print(Text(f"Hotline report: {periods.describe(report.period)}", style="bold"))
    for table in tables(report):
        console.print()
        console.print(table)
