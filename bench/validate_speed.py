"""How fast ``ivr validate`` checks a large flow, against reading the same file with PyYAML
alone (the least any validator built on YAML must pay), measured in the same run.

Flows of 2,000 and 20,000 nodes are generated (``flow_generator.py``: menus with keys, says,
branches, account and PIN gathers, verifies, use cases, queues, hangups; every node reached,
every call able to end). Each is validated in this process (``ivr validate``'s own entry
point, best of a few runs, CPU and wall time) and as a whole command in a child process
(start, imports, validation). The peer, ``yaml.safe_load`` of the same text, is timed the
same way; libyaml's loader (``yaml.CSafeLoader``) is shown beside it.

A 20,000-node flow is 2.6 MB and 300,000 YAML values, past the bounds the loader puts on
every file it reads (1 MiB, 50,000 values: ``ivr.flow.bounded_yaml.YamlLimits``), so both
sizes are validated with the bounds widened to ``LIMITS``: the checks and their cost are the
same, only the sizes at which a file is refused differ.

    python bench/validate_speed.py [--runs N] [--small]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from figures import Figure, show
from flow_generator import write_flow

from ivr.flow.bounded_yaml import YamlLimits

SIZES = (2_000, 20_000)
LIMITS = YamlLimits(max_bytes=8 * 1024 * 1024, max_nodes=1_000_000)
PEER_CODE = "import sys, yaml; yaml.safe_load(open(sys.argv[1], encoding='utf-8').read())"


@dataclass(frozen=True)
class Timing:
    cpu: float
    wall: float


def best_of(runs: int, work: Callable[[], object]) -> Timing:
    """The least CPU (this process's and its children's) and the least wall time of
    ``runs`` runs (the collector's debts from one run are paid before the next starts)."""
    cpu, wall = [], []
    for _ in range(runs):
        gc.collect()
        c0, w0 = _cpu(), time.perf_counter()
        work()
        cpu.append(_cpu() - c0)
        wall.append(time.perf_counter() - w0)
    return Timing(min(cpu), min(wall))


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def widen_limits() -> None:
    """Make ``ivr validate`` load flows within ``LIMITS`` (this process only)."""
    from ivr.app import cli_flow
    from ivr.flow.loader import load_flow
    from ivr.services.registry import HOTLINE_ACTIONS

    cli_flow.load_hotline = lambda path: load_flow(path, HOTLINE_ACTIONS, LIMITS)


def validate_here(path: Path) -> None:
    """``ivr validate PATH`` in this process, its output swallowed."""
    from ivr.app.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["validate", str(path)])
    if code != 0:
        raise SystemExit(f"ivr validate {path} failed ({code})")


def run_child(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")


def measure(path: Path, runs: int) -> dict[str, Timing]:
    import yaml

    text = path.read_text(encoding="utf-8")
    me = [sys.executable, __file__, "--validate", str(path)]
    return {
        "ours": best_of(runs, lambda: validate_here(path)),
        "safe_load": best_of(max(1, runs - 1), lambda: yaml.safe_load(text)),
        "libyaml": best_of(runs, lambda: yaml.load(text, Loader=yaml.CSafeLoader)),
        "ours_cmd": best_of(runs, lambda: run_child(me)),
        "peer_cmd": best_of(
            max(1, runs - 1), lambda: run_child([sys.executable, "-c", PEER_CODE, str(path)])
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each, the best kept")
    parser.add_argument("--small", action="store_true", help="200 and 2,000 nodes (a try)")
    parser.add_argument("--validate", help=argparse.SUPPRESS)  # the child: ivr validate
    args = parser.parse_args()
    widen_limits()
    if args.validate:
        validate_here(Path(args.validate))
        return
    sizes = (200, 2_000) if args.small else SIZES
    with tempfile.TemporaryDirectory(prefix="validate-speed-") as folder:
        small, large = (measure(write_flow(Path(folder) / str(n), n), args.runs) for n in sizes)
    names = [f"{n:,} nodes" for n in sizes]
    growth = (large["ours"].cpu / small["ours"].cpu) / (sizes[1] / sizes[0])
    peer_growth = (large["safe_load"].cpu / small["safe_load"].cpu) / (sizes[1] / sizes[0])
    limits = ("<= 0.3", "<= 2") if not args.small else (None, None)
    figures = [
        Figure(f"{names[0]}, CPU", small["ours"].cpu, small["safe_load"].cpu, "s", None, limits[0]),
        Figure(f"{names[1]}, CPU", large["ours"].cpu, large["safe_load"].cpu, "s", None, limits[1]),
        Figure(f"{names[0]}, wall", small["ours"].wall, small["safe_load"].wall, "s"),
        Figure(f"{names[1]}, wall", large["ours"].wall, large["safe_load"].wall, "s"),
        Figure("growth: CPU per node, large / small", growth, peer_growth, limit="<= 1.3"),
        Figure(f"{names[1]} vs libyaml's load, CPU", large["ours"].cpu, large["libyaml"].cpu, "s"),
        Figure(
            f"{names[0]}, whole command, CPU", small["ours_cmd"].cpu, small["peer_cmd"].cpu, "s"
        ),
        Figure(
            f"{names[1]}, whole command, CPU", large["ours_cmd"].cpu, large["peer_cmd"].cpu, "s"
        ),
        Figure(
            f"{names[1]}, whole command, wall", large["ours_cmd"].wall, large["peer_cmd"].wall, "s"
        ),
    ]
    show(
        f"ivr validate, generated flows (best of {args.runs}; bounds widened to "
        f"{LIMITS.max_bytes // 2**20} MiB, {LIMITS.max_nodes:,} values)",
        figures,
        peer="yaml.safe_load of the same file, same run (whole command: python -c of it); "
        "'vs libyaml' row: yaml.load with CSafeLoader",
    )


if __name__ == "__main__":
    main()
