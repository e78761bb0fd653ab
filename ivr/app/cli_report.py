"""``ivr report``: what happened on the hotline over a period, from the call records: as
tables in the terminal, as JSON (``--json``) or as CSV files (``--csv FOLDER``). What each
figure means, and the CSV layout: docs/reports.md."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console

from ivr.app import report_csv, report_tables
from ivr.app.cli_flow import Commands
from ivr.app.cli_period import add_period_options, hotline_report
from ivr.app.config import Settings

#: The width of the tables when the output is not a terminal (a file, a pipe).
PIPED_WIDTH = 160


def register(commands: Commands) -> None:
    """Add ``report`` to the ``ivr`` command's subcommands."""
    report = commands.add_parser(
        "report", help="the hotline's figures over a period (funnel, branches, queues)"
    )
    add_period_options(report)
    report.add_argument("--flow", help="flow file (default: $IVR_FLOW or callflows.yaml)")
    output = report.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the report as JSON")
    output.add_argument(
        "--csv", metavar="FOLDER", type=Path, help="write one CSV file per section there"
    )
    report.set_defaults(run=_report)


def _report(args: argparse.Namespace, settings: Settings) -> int:
    _, report = hotline_report(args, settings)
    if args.json:
        json.dump(report.to_json(), sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0
    if args.csv is not None:
        for path in report_csv.write_csv(report, args.csv):
            print(f"wrote {path}")
        return 0
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else PIPED_WIDTH)
    report_tables.show(report, console)
    return 0
