"""What ``ivr report`` and ``ivr graph --stats`` share: the period options
(``--from/--to/--tz``) and the report they ask the database for."""

from __future__ import annotations

import argparse

from ivr.app.bootstrap import Components, bootstrap
from ivr.app.config import Settings
from ivr.services import periods, reports
from ivr.services.insight import Period, Report


def add_period_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="first", metavar="YYYY-MM-DD", help="first day (default: today)"
    )
    parser.add_argument(
        "--to", dest="last", metavar="YYYY-MM-DD", help="last day, included (default: today)"
    )
    parser.add_argument(
        "--tz", metavar="ZONE", help="IANA time zone of the days (default: the flow's timezone)"
    )


def hotline_report(args: argparse.Namespace, settings: Settings) -> tuple[Components, Report]:
    """The hotline, and the report of the period ``args`` name, from its database (which
    must exist and be at this code's schema: else an error saying to run ``ivr db upgrade``)."""
    hotline = bootstrap(settings)
    flow = hotline.flow
    period = chosen_period(args, flow.timezone, hotline)
    hotline.sessions  # noqa: B018 - the schema is checked before any query
    return hotline, reports.build_report(hotline.unit_of_work, flow, period, hotline.clock.now())


def chosen_period(args: argparse.Namespace, default_tz: str, hotline: Components) -> Period:
    return periods.chosen(args.first, args.last, args.tz or default_tz, hotline.clock.now())
