"""Hundreds of concurrent simulated calls against the FastAGI server, on this machine.

Each simulated Asterisk connects, sends an environment block and answers every command
the way Asterisk would, pressing 1 (English) and 0 (agent) by barge-in: a whole call to
the general queue (call record, queue entry, the place and estimate announced), hanging up
at the hold music, which the controller records as abandoned. The baseline is a bare threaded socket
server answering the same number of command lines with no hotline behind it, measured in
the same run: the ratio is the per-command overhead the controller adds.

    .venv/bin/python bench/fastagi_load.py [--calls 300] [--concurrency 200]
"""

from __future__ import annotations

import argparse
import multiprocessing
import socket
import socketserver
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.orm import sessionmaker  # noqa: E402

from ivr.app.bootstrap import bootstrap  # noqa: E402
from ivr.app.cli_serve import serve_fastagi  # noqa: E402
from ivr.app.config import Settings  # noqa: E402
from ivr.phone.asterisk.fastagi import FastAgiServer  # noqa: E402
from ivr.store import schema  # noqa: E402
from ivr.store.db import connect  # noqa: E402
from ivr.store.seed import seed_demo  # noqa: E402

KEYS = ["1", "0"]  # English, then an agent


def environment(n: int) -> str:
    lines = [
        "agi_network: yes",
        "agi_network_script: hotline",
        "agi_request: agi://127.0.0.1/hotline",
        f"agi_channel: PJSIP/caller-{n:08x}",
        "agi_language: en",
        "agi_type: PJSIP",
        f"agi_uniqueid: bench.{n}",
        "agi_version: 22.0.0",
        f"agi_callerid: +1555{n:07d}",
        "agi_calleridname: bench",
        "agi_context: hotline",
        "agi_extension: 100",
        "agi_priority: 2",
        "agi_enhanced: 0.0",
        "agi_accountcode: ",
        "agi_threadid: 1",
    ]
    return "\n".join(lines) + "\n\n"


Answer = Callable[[str], str]


DEAD = "511 Command Not Permitted on a dead channel or intercepted by the dialplan"


def hotline_caller() -> Answer:
    """Asterisk's replies for a caller who presses 1, then 0, by barge-in, hears their
    place in the queue and hangs up at the hold music (nobody is available)."""
    keys = list(KEYS)
    gone: list[str] = []

    def answer(command: str) -> str:
        if gone:  # FastAGI: a HANGUP line before the next reply, then dead-channel errors
            if len(gone) == 1:
                gone.append("HANGUP said")
                return f"HANGUP\n{DEAD}"
            return DEAD
        if command.startswith("STREAM FILE MOH/"):
            gone.append("hung up")
            return "200 result=-1 endpos=0"
        if command.startswith("STREAM FILE") and not command.endswith('""') and keys:
            return f"200 result={ord(keys.pop(0))} endpos=800"
        if command.startswith("HANGUP"):
            return "200 result=1"
        return "200 result=0"  # prompts played, WAIT FOR DIGIT timed out, variables set

    return answer


def simulated_call(port: int, n: int, answer: Answer) -> tuple[int, float]:
    """One call: the environment, then a reply to each command until the server closes.
    Returns (commands answered, seconds)."""
    start = time.perf_counter()
    commands = 0
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = sock.makefile("r", encoding="utf-8", newline="\n")
        writer = sock.makefile("w", encoding="utf-8", newline="\n")
        writer.write(environment(n))
        writer.flush()
        for line in reader:
            commands += 1
            writer.write(answer(line.strip().upper()) + "\n")
            writer.flush()
    return commands, time.perf_counter() - start


class _Echo(socketserver.StreamRequestHandler):
    """The baseline: reads the environment, then asks the same number of commands."""

    rounds = 0

    def handle(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while self.rfile.readline().strip():
            pass
        for _ in range(self.rounds):
            self.wfile.write(b"STREAM FILE en/x 0123456789*#\n")
            self.wfile.flush()
            if not self.rfile.readline():
                return


class _EchoServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # as the hotline's server


def _client_batch(
    kind: str, port: int, calls: int, concurrency: int
) -> tuple[float, list[float], int]:
    """Runs in its own process, as Asterisk would: the callers do not share our GIL."""

    def one(n: int) -> tuple[int, float]:
        answer = hotline_caller() if kind == "hotline" else (lambda _command: "200 result=0")
        return simulated_call(port, n, answer)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, range(calls)))
    elapsed = time.perf_counter() - start
    return elapsed, [seconds for _, seconds in results], sum(c for c, _ in results)


def run(kind: str, port: int, calls: int, concurrency: int) -> tuple[float, list[float], int]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_client_batch, kind, port, calls, concurrency).result()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        database = connect(url)
        schema.upgrade(database)
        settings = Settings(flow_path=ROOT / "callflows.yaml", database_url=url, log_level="ERROR")
        hotline = bootstrap(settings)
        seed_demo(sessionmaker(database), hotline.clock.now(), pepper=settings.pepper())
        started = threading.Event()
        holder: list[FastAgiServer] = []

        def ready(server: FastAgiServer) -> None:
            holder.append(server)
            started.set()

        thread = threading.Thread(target=serve_fastagi, args=(hotline, "127.0.0.1", 0, ready))
        thread.start()
        started.wait(30)
        port = holder[0].address[1]

        elapsed, latencies, commands = run("hotline", port, args.calls, args.concurrency)
        per_call = commands / args.calls
        holder[0].shutdown()
        thread.join()
        with database.connect() as conn:
            from sqlalchemy import text

            records = conn.execute(text("select count(*) from call_records")).scalar_one()

    _Echo.rounds = round(per_call)
    echo = _EchoServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    base_elapsed, base_latencies, base_commands = run(
        "baseline", echo.server_address[1], args.calls, args.concurrency
    )
    echo.shutdown()

    ours = elapsed / commands * 1e6
    bare = base_elapsed / base_commands * 1e6
    print(f"calls: {args.calls} ({args.concurrency} at once), {per_call:.0f} AGI commands each")
    print(f"call records written: {records}")
    print(
        f"hotline:  {args.calls / elapsed:7.1f} calls/s, {commands / elapsed:8.0f} commands/s, "
        f"call p50 {statistics.median(latencies) * 1000:6.1f} ms, "
        f"p95 {statistics.quantiles(latencies, n=20)[18] * 1000:6.1f} ms"
    )
    print(
        f"baseline: {args.calls / base_elapsed:7.1f} calls/s, "
        f"{base_commands / base_elapsed:8.0f} commands/s, "
        f"call p50 {statistics.median(base_latencies) * 1000:6.1f} ms"
    )
    print(f"per command: {ours:.0f} us vs {bare:.0f} us bare; overhead ratio {ours / bare:.1f}x")


if __name__ == "__main__":
    main()
