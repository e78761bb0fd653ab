"""The FastAGI server under load beside panoramisk sending the same commands with no work
(issue 15, targets 1 and 6).

The call is ``bench/pin_burst.py``'s: English (1), payment failure (2), an account number
and ``#``, its PIN, the result heard, 9 (goodbye). First one such call is made against the
real ``ivr fastagi`` (its own process, ``IVR_FASTAGI_MAX_CALLS`` twice the concurrency, so
that a new call of the loop never meets the cap before the last one's thread let go, on a
PostgreSQL database created for the run on ``IVR_TEST_POSTGRES_URL``'s server and dropped
after it, or ``--backend sqlite``; one account per caller) and the command lines it sends
are recorded. Then the same load drives, one after the other:

- ours: the real ``ivr fastagi``, doing the real work (PIN check, call records...);
- panoramisk (its FastAGI ``Application``, asyncio), sending the recorded command lines in
  order and ignoring the answers: the peer, installed into ``var/bench-peer`` on first use
  (not a dependency of the project; exit status 2 when pip cannot install it);
- a raw asyncio server doing the same: the floor.

The load (``bench/agi_callers.py``, ``--loaders`` processes of their own): a fake Asterisk
keeping ``--concurrency`` calls up until ``--calls`` calls are made (a closed loop), every
call the same script with its own uniqueid, caller id and account. Measured over the steady
part (from the end of the first ``concurrency`` calls to the start of the last ones, or the
middle half when the run is shorter): calls/s, per-command latency (from the end of the
previous answer to the arrival of the next command line; p50/p99 of the calls ended in that
part), the server's CPU per call (user + system of the server process and its children,
from ``/proc``), and its memory (``VmRSS``, every 0.1 s: the peak while the calls are up,
and after they ended). Over all calls: errors (calls that broke off or did not end
"solved") and, for ours, lost records (calls without exactly one closed call record).

    .venv/bin/python bench/fastagi_peer.py [--calls 1500] [--peer-calls 6000]
        [--concurrency 300] [--backend postgresql|sqlite] [--profile var/profile.svg]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import agi_callers
import pin_burst
from figures import Figure, show
from peer_servers import NoPeer, peer_python, peer_server, peer_tool
from proc_sampler import Sampler
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
CALLERS = Path(__file__).resolve().parent / "agi_callers.py"
SETTLE = 2.0  # seconds after the last call before the memory "after" is read


@dataclass(frozen=True)
class Load:
    """One side's figures."""

    calls: int
    rate: float  # calls/s, steady part
    p50: float  # per-command wait, seconds
    p99: float
    call_p99: float  # whole call
    cpu: float  # server CPU seconds per call, steady part
    errors: int
    first_error: str | None
    rss_peak: int  # bytes while the calls are up
    rss_after: int
    loader_cpu: float  # the fake Asterisks' CPU seconds per call
    ids: frozenset[str]


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def record(port: int, n: int) -> list[str]:
    """The command lines the hotline sends for one call (caller ``n``)."""
    call = asyncio.run(agi_callers.one_call("127.0.0.1", port, n, "record", keep=True))
    if call.error or call.outcome != "solved":
        raise SystemExit(f"the recorded call failed: {call.error or call.outcome}")
    return call.commands


def callers(
    port: int, calls: int, concurrency: int, loaders: int, run: str, folder: Path
) -> tuple[list[dict[str, Any]], float]:
    """The fake Asterisks (``loaders`` processes sharing the calls and the concurrency):
    their calls, and their CPU seconds in all."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    outs = [folder / f"{run}-{i}.json" for i in range(loaders)]
    processes = []
    for i, out in enumerate(outs):  # loader i: calls i, i + loaders...
        share = concurrency // loaders + (i < concurrency % loaders)
        options: dict[str, object] = {"port": port, "calls": calls, "concurrency": share}
        options |= {"first": i}
        options |= {"step": loaders, "run": run, "out": out}
        argv = [str(part) for key, value in options.items() for part in (f"--{key}", value)]
        processes.append(subprocess.Popen([sys.executable, CALLERS, *argv]))
    if any(p.wait() != 0 for p in processes):
        raise SystemExit(f"a fake Asterisk of {run} failed")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return [c for out in outs for c in json.loads(out.read_text())["calls"]], cpu


def steady_part(ends: list[float], concurrency: int) -> tuple[float, float]:
    """From the end of the first ``concurrency`` calls to the start of the last ones (the
    loop full), or the middle half of the calls when the run is too short for that."""
    first, last = min(concurrency, len(ends) // 4), max(len(ends) - concurrency, 3 * len(ends) // 4)
    if last - first < len(ends) // 4:
        first, last = len(ends) // 4, 3 * len(ends) // 4
    return ends[first], ends[last - 1]


def drive(
    port: int, pid: int, calls: int, concurrency: int, loaders: int, run: str, folder: Path,
    profile: Path | None = None, gil: bool = False,
) -> Load:  # fmt: skip
    """The closed loop against the server on ``port`` (process ``pid``), measured."""
    sampler = Sampler(pid).start()
    spy = _profiler(pid, profile, gil) if profile else None
    results, loader_cpu = callers(port, calls, concurrency, loaders, run, folder)
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait()
    time.sleep(SETTLE)
    samples = sampler.stop()
    start, end = steady_part(sorted(c["ended"] for c in results), concurrency)
    steady = [c for c in results if start < c["ended"] <= end]
    waits = [w for c in steady for w in c["waits"]]
    errors = [c for c in results if c["error"] or c["outcome"] != "solved"]
    up = min(c["started"] for c in results), max(c["ended"] for c in results)
    return Load(
        calls=len(results),
        rate=len(steady) / (end - start),
        p50=quantile(waits, 0.5),
        p99=quantile(waits, 0.99),
        call_p99=quantile([c["ended"] - c["started"] for c in steady], 0.99),
        cpu=(sampler.at(end).cpu - sampler.at(start).cpu) / max(len(steady), 1),
        errors=len(errors),
        first_error=(errors[0]["error"] or f"outcome {errors[0]['outcome']}") if errors else None,
        rss_peak=sampler.peak_rss(*up),
        rss_after=samples[-1].rss,
        loader_cpu=loader_cpu / len(results),
        ids=frozenset(c["call_id"] for c in results),
    )


def _profiler(pid: int, out: Path, gil: bool) -> subprocess.Popen[bytes] | None:
    """py-spy (in the peer environment) recording ``pid`` until SIGINT; None without it."""
    try:
        spy = peer_tool("py-spy", "py-spy")
    except NoPeer as exc:
        print(f"  no profile: {exc}")
        return None
    kind = {".svg": "flamegraph", ".json": "speedscope"}.get(out.suffix, "raw")
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [spy, "record", "--nonblocking", "--format", kind, "-o", out, "--pid", str(pid),
         *(["--gil"] if gil else [])],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def rehash(url: str, root: Path) -> None:
    """The seeded accounts' PIN hash made again by ``root``'s code (its scrypt cost: a hash
    of another cost would be checked at that cost, then rewritten, on every call)."""
    made = subprocess.run(
        [sys.executable, "-c", "import sys; from ivr.services.pins import hash_pin; "
         "print(hash_pin(sys.argv[1], sys.argv[2].encode()))", pin_burst.PIN, pin_burst.PEPPER],
        env={**os.environ, "PYTHONPATH": str(root)}, cwd=root, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE accounts SET pin_hash = :h"), {"h": made.stdout.strip()})
    finally:
        engine.dispose()


def measure(args: argparse.Namespace, python: Path, folder: Path) -> None:
    c = args.concurrency
    with pin_burst.database(args.backend, folder, args.calls + 1) as url:
        rehash(url, args.root)
        with pin_burst.controller_process(url, args.root, 2 * c, folder) as (port, process):
            commands = record(port, args.calls)
            print(f"the call: {len(commands)} command lines (recorded from ivr fastagi)")
            ours = drive(port, process.pid, args.calls, c, args.loaders, "ours", folder,
                         args.profile, args.gil)  # fmt: skip
        closed, _ = pin_burst.recorded(url, "ours.")  # after the server stopped
    script = folder / "commands.txt"
    script.write_text("".join(f"{line}\n" for line in commands), encoding="utf-8")
    peers = {}
    for kind in ("panoramisk", "raw"):
        with peer_server(python if kind == "panoramisk" else Path(sys.executable), kind,
                         script, folder) as (port, process):  # fmt: skip
            peers[kind] = drive(port, process.pid, args.peer_calls, c, args.loaders, kind, folder)
    report(args, len(commands), ours, peers["panoramisk"], peers["raw"], len(ours.ids - closed))


def report(
    args: argparse.Namespace, commands: int, ours: Load, pano: Load, raw: Load, lost: int
) -> None:
    mb = 1024 * 1024
    for name, load in (("ours", ours), ("panoramisk", pano), ("raw", raw)):
        print(
            f"  {name}: {load.calls} calls, the fake Asterisks' CPU {load.loader_cpu * 1000:.2f}"
            f" ms/call" + (f"; first error: {load.first_error}" if load.first_error else "")
        )
    c = args.concurrency
    title = f"FastAGI, {c} concurrent calls ({args.backend})"

    def figures(peer: Load, targets: bool) -> list[Figure]:
        def t(target: str) -> str | None:
            return target if targets else None

        return [
            Figure("calls/s", ours.rate, peer.rate, "/s", want=t(">= 0.5")),
            Figure("per-command p99", ours.p99, peer.p99, "s", want=t("<= 2")),
            Figure("per-command p50", ours.p50, peer.p50, "s"),
            Figure("whole call p99", ours.call_p99, peer.call_p99, "s"),
            Figure("server CPU per call", ours.cpu, peer.cpu, "s", want=t("<= 5")),
            Figure("errors", ours.errors, peer.errors, limit=t("== 0")),
            Figure("lost records", lost, limit=t("== 0")),
            Figure(
                f"RSS, {c} calls up",
                ours.rss_peak / mb,
                peer.rss_peak / mb,
                "MB",
                limit=t("<= 300"),
            ),
            Figure("RSS after the calls", ours.rss_after / mb, peer.rss_after / mb, "MB"),
        ]

    show(title, figures(pano, True), f"panoramisk, the same {commands} commands, no work")
    show(f"{title}: the floor", figures(raw, False), "a raw asyncio server, the same commands")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1500, help="calls made to ours")
    parser.add_argument("--peer-calls", type=int, default=6000, help="calls made to each peer")
    parser.add_argument("--concurrency", type=int, default=300, help="calls up at once")
    parser.add_argument(
        "--backend", choices=["postgresql", "sqlite"], default="postgresql", help="ours's store"
    )
    parser.add_argument("--loaders", type=int, default=1, help="fake Asterisk processes")
    parser.add_argument(
        "--profile", type=Path, help="py-spy record of ours into this file (.svg, .json: "
        "speedscope, else raw stacks); py-spy goes into the peer environment; it costs CPU"
    )  # fmt: skip
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="ours's checkout (another one: before/after)"
    )
    parser.add_argument(
        "--gil", action="store_true", help="with --profile: only the thread holding the GIL"
    )
    args = parser.parse_args()
    args.root = args.root.resolve()
    try:
        python = peer_python()
    except NoPeer as exc:
        print(f"fastagi_peer: no panoramisk to compare with: {exc}")
        raise SystemExit(2) from None
    with tempfile.TemporaryDirectory() as scratch:
        try:
            measure(args, python, Path(scratch))
        except pin_burst.Unavailable as exc:
            print(f"{args.backend}: not measured: {exc}")


if __name__ == "__main__":
    main()
