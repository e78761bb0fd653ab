"""The supervisors' reports page: the hotline's figures for today or a chosen range of
days in the hotline's time zone (``Flow.timezone``): the totals, the charts of calls per
hour and of service level per queue (``ivr.web.charts``), the call tree with each node's
traffic and drop-off drawn by Graphviz (``ivr.web.flow_svg``; a table when Graphviz is
missing) and the tables of nodes, branches, transfers, queues, surveys and complaints."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from ivr.flow import diagram
from ivr.flow.model import Flow
from ivr.services import periods, reports
from ivr.services.insight import Report
from ivr.services.periods import PeriodError
from ivr.services.report_figures import by_hour_of_day, node_traffic, totals
from ivr.web import charts
from ivr.web.auth import supervisor_required
from ivr.web.context import hotline, now
from ivr.web.errors import WebError
from ivr.web.flow_svg import GraphvizError, render_svg

bp = Blueprint("reports", __name__, url_prefix="/supervisor/reports")
log = logging.getLogger(__name__)
DATABASE_AWAY = "The database cannot be reached, so there is no report now. Try again soon."


@bp.get("/")
@supervisor_required
def index() -> str | tuple[str, int]:
    flow, asked = hotline().flow, _asked()
    try:
        period = periods.chosen(asked["from"] or None, asked["to"] or None, flow.timezone, now())
    except PeriodError as refused:
        page = render_template("reports.html", asked=asked, tz=flow.timezone, error=str(refused))
        return page, 400
    report = reports.build_report(hotline().unit_of_work, flow, period, now())
    return render_template("reports.html", asked=asked, tz=flow.timezone, **_shown(report, flow))


@bp.get("/tree.svg")
@supervisor_required
def tree() -> Response:
    """The annotated call tree alone, at full size (the page shows it scaled)."""
    flow, asked = hotline().flow, _asked()
    try:
        period = periods.chosen(asked["from"] or None, asked["to"] or None, flow.timezone, now())
        report = reports.build_report(hotline().unit_of_work, flow, period, now())
        svg = render_svg(diagram.dot(flow, node_traffic(report)))
    except (PeriodError, GraphvizError) as refused:
        raise WebError(400 if isinstance(refused, PeriodError) else 503, str(refused)) from None
    return Response(svg, mimetype="image/svg+xml")


def _asked() -> dict[str, str]:
    """The ``from`` and ``to`` days asked for ("" when not), bounded."""
    return {name: request.args.get(name, "").strip()[:32] for name in ("from", "to")}


def _shown(report: Report, flow: Flow) -> dict[str, Any]:
    first, last = periods.first_and_last(report.period)
    days = (last - first).days + 1
    return {
        "report": report,
        "period": periods.describe(report.period),
        "today": first == last == periods.local_today(now(), report.period.tz),
        "totals": totals(report),
        "hours_chart": Markup(charts.hours_chart(by_hour_of_day(report), days)),
        "service_chart": Markup(charts.service_level_chart(report.queues)),
        "levels": _legend(),
        **_tree(report, flow),
    }


def _legend() -> list[tuple[str, str]]:
    """Each drop-off level's class and its range: ``15% or more``, ``5% to 15%``..."""
    legend, above = [], None
    for least, name, _ in diagram.DROP_LEVELS:
        if above is None:
            legend.append((name, f"{least:.0%} or more"))
        else:
            legend.append((name, f"{least:.0%} to {above:.0%}" if least else f"under {above:.0%}"))
        above = least
    return legend


def _tree(report: Report, flow: Flow) -> dict[str, Any]:
    """The annotated call tree as SVG (cleaned, so it may go inline), or why not."""
    try:
        return {"tree": Markup(render_svg(diagram.dot(flow, node_traffic(report))))}
    except GraphvizError as exc:
        log.warning("reports page: no call tree drawing: %s", exc)
        return {"tree": None, "tree_problem": str(exc)}


@bp.errorhandler(SQLAlchemyError)
def database_away(exc: SQLAlchemyError) -> tuple[str, int]:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    log.warning("reports page: database error: %s", reason[0] if reason else type(exc).__name__)
    return render_template("error.html", status=503, message=DATABASE_AWAY), 503


@bp.app_template_filter("share")
def share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


@bp.app_template_filter("secs")
def secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"
