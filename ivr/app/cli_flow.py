"""``ivr init``, ``ivr validate`` and ``ivr graph``: the flow file, written, checked, drawn."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TypeAlias

from ivr.app.bootstrap import load_hotline
from ivr.app.cli_period import add_period_options, hotline_report
from ivr.app.config import Settings
from ivr.audio.build import prompts_root
from ivr.audio.problems import audio_problems
from ivr.flow import diagram
from ivr.flow.model import Flow
from ivr.services import periods
from ivr.services.report_figures import node_traffic

#: The help of a command's flow argument.
FLOW_HELP = "flow file (default: $IVR_FLOW or callflows.yaml)"

#: What ``add_subparsers()`` returns: each module adds its commands to it.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def register(commands: Commands) -> None:
    """Add ``init``, ``validate`` and ``graph`` to the ``ivr`` command's subcommands."""
    init = commands.add_parser(
        "init", help="write the default hotline (callflows.yaml and its prompts) into a folder"
    )
    init.add_argument("folder", nargs="?", default=".", help="where (default: here)")
    init.set_defaults(run=_init)

    validate = commands.add_parser("validate", help="check a flow file and its prompts")
    validate.add_argument("flow", nargs="?", help=FLOW_HELP)
    validate.add_argument(
        "--schema",
        action="store_true",
        help="also check it against ivr/flow/callflows.schema.json (the editors' schema)",
    )
    validate.set_defaults(run=_validate)

    graph = commands.add_parser("graph", help="print a picture of the call tree")
    graph.add_argument("flow", nargs="?", help=FLOW_HELP)
    graph.add_argument(
        "--format",
        choices=("mermaid", "dot", "svg"),
        default="mermaid",
        help="svg: drawn by Graphviz's dot (Debian package graphviz)",
    )
    graph.add_argument(
        "--stats",
        action="store_true",
        help="each node's calls and drop-off over a period, from the database",
    )
    add_period_options(graph)
    graph.set_defaults(run=_graph)


def _init(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.app.starter import write_default_hotline

    for path in write_default_hotline(Path(args.folder)):
        print(f"wrote {path}")
    print("edit them, then: ivr validate; ivr db upgrade; ivr seed --demo; ivr serve")
    return 0


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.flow) if args.flow else settings.flow_path
    flow = load_hotline(path)
    languages = ", ".join(flow.languages)
    print(
        f"{path}: OK: {len(flow.nodes)} nodes, {len(flow.catalog.texts)} prompts ({languages}), "
        f"{len(flow.queues)} queues, {len(flow.actions)} use cases, start '{flow.start}'"
    )
    _warn_audio(flow)
    if args.schema:
        return _check_schema(path)
    return 0


def _check_schema(path: Path) -> int:
    """The editors' schema on a flow the loader accepted: a problem here is the schema's
    to fix (it must accept every flow the loader does)."""
    from ivr.app.flow_schema import SCHEMA_PATH, flow_data, schema_problems

    problems = schema_problems(flow_data(path.read_text(encoding="utf-8")))
    for line in problems:
        print(f"{path}: schema: {line}", file=sys.stderr)
    if problems:
        print(f"{SCHEMA_PATH} refuses a flow the loader accepts: fix the schema", file=sys.stderr)
        return 1
    print(f"{path}: OK for {SCHEMA_PATH.name}")
    return 0


def _warn_audio(flow: Flow, shown: int = 5) -> None:
    """Prompt audio that is missing or stale: a warning (Twilio can speak text instead)."""
    problems = audio_problems(flow, prompts_root(flow))
    for line in problems[:shown]:
        print(f"warning: {line}", file=sys.stderr)
    if len(problems) > shown:
        print(
            f"warning: ... {len(problems)} prompt audio files missing or stale in all "
            "(run ivr prompts build)",
            file=sys.stderr,
        )


def _graph(args: argparse.Namespace, settings: Settings) -> int:
    if not args.stats and (args.first or args.last or args.tz):
        print("ivr graph: --from, --to and --tz choose the days of --stats", file=sys.stderr)
        return 2
    traffic: diagram.Traffic | None = None
    if args.stats:
        hotline, report = hotline_report(args, settings)
        flow, traffic = hotline.flow, node_traffic(report)
        print(f"calls from {periods.describe(report.period)}", file=sys.stderr)
    else:
        flow = load_hotline(Path(args.flow) if args.flow else settings.flow_path)
    if args.format == "mermaid":
        print(diagram.mermaid(flow, traffic), end="")
    elif args.format == "dot":
        print(diagram.dot(flow, traffic), end="")
    else:
        from ivr.web.flow_svg import render_svg  # Flask's package, for this format only

        print(render_svg(diagram.dot(flow, traffic)))
    return 0
