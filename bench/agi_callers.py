"""The load of ``bench/fastagi_peer.py``: a fake Asterisk that keeps ``concurrency`` calls
up at once until ``calls`` calls are made (a closed loop), in one asyncio process.

Every call is the caller of ``bench/pin_burst.py``: English (1), payment failure (2), an
account number and ``#``, its PIN, the result heard, then 9 (goodbye), answered command by
command by ``tests/agi_fake.FakeAsterisk``, with a uniqueid, caller id and account of its
own. Measured: for each command, the time from the end of the previous answer (or of the
environment) to the arrival of the command line; per call, the whole time from the connect
to the end of the line. The same code drives the hotline and its peers.

    python bench/agi_callers.py --port 4573 --calls 1500 --concurrency 300 --out calls.json
    [--first 0 --step 1]   (this process's share when several drive one server)

Writes one JSON object: ``calls``, a list of {n, call_id, outcome, error, started, ended,
waits} with ``started``/``ended`` on ``time.monotonic()`` (the same clock in every process
of this machine) and ``waits`` in seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from agi_fake import FakeAsterisk, environment  # noqa: E402

PIN = "135790"  # bench/pin_burst.PIN: the seeded accounts' PIN
FIRST_ACCOUNT = 30_000_000  # bench/pin_burst.FIRST_ACCOUNT
CALL_TIMEOUT = 300.0
#: The longest line the fake accepts from a server (a command line is far shorter).
LINE_LIMIT = 8192


@dataclass
class CallResult:
    """What one caller saw."""

    n: int
    call_id: str
    outcome: str | None = None  # IVR_OUTCOME as the server set it
    error: str | None = None
    started: float = 0.0
    ended: float = 0.0
    waits: list[float] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


def caller(n: int, run: str) -> FakeAsterisk:
    """The fake Asterisk of call ``n``: its own uniqueid, caller id and account."""
    env = environment(
        "fastagi_session.txt",
        agi_network_script="hotline",
        agi_uniqueid=f"{run}.{n}",
        agi_callerid=f"+1555{n:07d}",
    )
    return FakeAsterisk(f"1 2 {FIRST_ACCOUNT + n}# {PIN} 9", env=env)


async def one_call(host: str, port: int, n: int, run: str, keep: bool = False) -> CallResult:
    """Call ``n`` once; ``keep``: keep the command lines (the recording)."""
    fake = caller(n, run)
    result = CallResult(n, f"{run}.{n}", started=time.monotonic())
    perf = time.perf_counter
    waits = result.waits
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(CALL_TIMEOUT):
            reader, writer = await asyncio.open_connection(host, port, limit=LINE_LIMIT)
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            writer.write(("".join(f"{line}\n" for line in fake.environment) + "\n").encode())
            sent = perf()
            while True:
                raw = await reader.readline()
                if not raw:
                    break
                waits.append(perf() - sent)
                lines = fake.reply(raw.decode())
                if fake.state == "closed":
                    break
                writer.write("".join(f"{line}\n" for line in lines).encode())
                sent = perf()
    except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        if writer is not None:
            writer.close()
    result.ended = time.monotonic()
    result.outcome = fake.variables.get("IVR_OUTCOME")
    if keep:
        result.commands = list(fake.commands)
    return result


async def closed_loop(
    host: str, port: int, numbers: list[int], concurrency: int, run: str
) -> list[CallResult]:
    """``concurrency`` callers, each starting its next call when the last one ends."""
    pending = iter(numbers)
    results: list[CallResult] = []

    async def line() -> None:
        for n in pending:
            results.append(await one_call(host, port, n, run))

    await asyncio.gather(*(line() for _ in range(concurrency)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--calls", type=int, required=True, help="calls made in all")
    parser.add_argument("--concurrency", type=int, required=True, help="calls up at once")
    parser.add_argument("--first", type=int, default=0, help="this process's first call")
    parser.add_argument("--step", type=int, default=1, help="its calls: first, first+step...")
    parser.add_argument("--run", default="load", help="prefix of the uniqueids")
    parser.add_argument("--out", type=Path, required=True, help="the JSON file written")
    args = parser.parse_args()
    numbers = list(range(args.first, args.calls, args.step))
    results = asyncio.run(closed_loop(args.host, args.port, numbers, args.concurrency, args.run))
    args.out.write_text(json.dumps({"calls": [asdict(r) for r in results]}))


if __name__ == "__main__":
    main()
