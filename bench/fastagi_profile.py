"""Where one FastAGI call's CPU goes: the server in this process, each call profiled with
cProfile in its own thread, the callers in another process (``bench/pin_burst.py``'s
caller: English, payment failure, account, PIN, goodbye), on SQLite or PostgreSQL.

Prints the server's CPU per call (``time.thread_time`` of the call threads, which is what
the profile sees) and the functions with the most cumulative time, per call. The profile
slows everything by a constant factor: read it for shares, not for absolute figures
(those are ``bench/fastagi_peer.py``'s).

    .venv/bin/python bench/fastagi_profile.py [--calls 100] [--backend postgresql] [--top 40]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pin_burst  # noqa: E402
from sqlalchemy import event  # noqa: E402

from ivr.app.bootstrap import bootstrap  # noqa: E402
from ivr.app.cli_serve import serve_fastagi  # noqa: E402
from ivr.app.config import Settings  # noqa: E402
from ivr.phone.asterisk.fastagi import FastAgiServer  # noqa: E402
from ivr.phone.asterisk.fastagi_loop import CallLoop  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--backend", default="postgresql", choices=["sqlite", "postgresql"])
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--no-profile", action="store_true", help="CPU per call only")
    parser.add_argument("--sql", action="store_true", help="count the statements per call")
    args = parser.parse_args()

    stats: list[cProfile.Profile] = []
    cpu: list[float] = []
    lock = threading.Lock()
    plain_call = FastAgiServer._call

    def profiled_call(self: FastAgiServer, *a: object) -> None:
        profile = None if args.no_profile else cProfile.Profile(time.thread_time)
        started = time.thread_time()
        if profile:
            profile.enable()
        try:
            plain_call(self, *a)  # type: ignore[arg-type]
        finally:
            if profile:
                profile.disable()
            with lock:
                cpu.append(time.thread_time() - started)
                if profile:
                    stats.append(profile)

    FastAgiServer._call = profiled_call  # type: ignore[method-assign]
    plain_run = CallLoop._run

    def profiled_loop(self: CallLoop) -> None:
        """On PostgreSQL the calls share the loop's thread: it is profiled whole."""
        profile = None if args.no_profile else cProfile.Profile(time.thread_time)
        if profile:
            profile.enable()
        try:
            plain_run(self)
        finally:
            if profile:
                profile.disable()
                with lock:
                    stats.append(profile)

    CallLoop._run = profiled_loop  # type: ignore[method-assign]

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        with pin_burst.database(args.backend, folder, args.calls) as url:
            settings = Settings(
                flow_path=ROOT / "callflows.yaml",
                database_url=url,
                log_level="ERROR",
                pepper_key=pin_burst.PEPPER,
            )
            hotline = bootstrap(settings, role="fastagi")
            statements: Counter[str] = Counter()
            if args.sql:

                def count(_c: object, _cur: object, statement: str, *_: object) -> None:
                    statements[" ".join(statement.split())[:90]] += 1

                event.listen(hotline.database, "before_cursor_execute", count)
                if hotline.call_database is not None:
                    engine = hotline.call_database.sync_engine
                    event.listen(engine, "before_cursor_execute", count)
            holder: list[FastAgiServer] = []
            started = threading.Event()

            def ready(server: FastAgiServer) -> None:
                holder.append(server)
                started.set()

            thread = threading.Thread(target=serve_fastagi, args=(hotline, "127.0.0.1", 0, ready))
            thread.start()
            started.wait(30)
            port = holder[0].address[1]
            before = resource.getrusage(resource.RUSAGE_SELF)
            (calls, _), elapsed = pin_burst.callers(
                port, list(range(args.calls)), "profile", False, 0
            )
            after = resource.getrusage(resource.RUSAGE_SELF)
            process_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            holder[0].shutdown()
            thread.join()
    errors = [c for c in calls if c.error or c.outcome != "solved"]
    print(
        f"{args.backend}: {len(calls)} calls one after another in {elapsed:.1f} s, "
        f"errors {len(errors)}"
    )
    if cpu:
        print(f"server CPU per call: {sum(cpu) / len(cpu) * 1000:.2f} ms (call threads)")
    print(f"process CPU per call: {process_cpu / len(calls) * 1000:.2f} ms (every thread)")
    for statement, times in statements.most_common():
        print(f"{times / len(calls):5.2f} per call  {statement}")
    if stats:
        out = io.StringIO()
        total = pstats.Stats(stats[0], stream=out)
        for more in stats[1:]:
            total.add(more)
        total.sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
        shares: Counter[str] = Counter()
        for (filename, _line, _name), row in total.stats.items():  # type: ignore[attr-defined]
            shares[_package(filename)] += row[2]  # tottime: the function's own time
        whole = sum(shares.values())
        print("own time by package, per call:")
        for package, seconds in shares.most_common(12):
            print(f"  {seconds / len(calls) * 1000:7.2f} ms  {seconds / whole:5.1%}  {package}")


def _package(filename: str) -> str:
    """``sqlalchemy``, ``psycopg``, ``ivr/store``..., or ``python`` (the standard library
    and built-ins)."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if "/ivr/" in filename:
        parts = filename.split("/ivr/", 1)[1].split("/")
        return "ivr/" + "/".join(parts[:-1] or parts)
    return "python"


if __name__ == "__main__":
    main()
