"""A burst of callers who all verify a PIN at once, against ``ivr fastagi``, on SQLite and
on PostgreSQL.

Each simulated Asterisk (``tests/agi_fake.FakeAsterisk``, the same fake the integration
tests use) connects, chooses English and the payment-failure branch, types an account
number and its PIN, hears the result and presses 9 (goodbye). All calls start together,
so their PINs arrive within moments of each other: every PIN check (scrypt, about 2 ms
of CPU) is in flight at once. While they are checked, ten more callers ask for a person
(1 0: the queue, their place announced, a hang-up at the hold): how long their calls
take shows whether the PIN checks hold up everyone else's database work. The controller
is the real ``ivr fastagi`` command in its own process (``IVR_FASTAGI_MAX_CALLS`` set to
the number of calls), on its own database: an SQLite file, and a PostgreSQL database
created for the run and dropped after it (``IVR_TEST_POSTGRES_URL``'s server, else the
local default).

Printed per backend: lost records (calls without exactly one closed call record),
failed verifications (callers with the right PIN who were not verified), errors (calls
that broke off or ended other than "solved"), the p50/p99 silence after the PIN (from
sending its last digit to the next command), the whole calls of the callers for a
person, calls/s. The peers, measured in the same
run: the same calls made by one caller at a time (the floor: one PIN check and a few
short units of work), and the PIN checks alone on one thread per core (the most
calls/s this machine's CPUs allow). ``--root`` runs another checkout's controller (for
example the code before a change) against the same callers.

    .venv/bin/python bench/pin_burst.py [--calls 300] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from ivr.services import pins  # noqa: E402
from ivr.store import models as m  # noqa: E402
from ivr.store import schema  # noqa: E402
from ivr.store.db import connect, redact  # noqa: E402

PEPPER = "pin-burst-pepper"
PIN = "135790"
FIRST_ACCOUNT = 30_000_000
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CALL_TIMEOUT = 120.0
#: The last line of a traceback in the controller's log.
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(: |$)")
#: The callers for a person arrive from this many seconds after the burst, one every
#: ``OTHERS_EVERY``: while the burst's PINs are being checked.
OTHERS_AFTER, OTHERS_EVERY = 2.0, 0.25


@dataclass(frozen=True)
class Call:
    """What one simulated caller saw."""

    call_id: str
    outcome: str | None  # IVR_OUTCOME as the controller set it
    silence: float | None  # seconds from the PIN's last digit to the next command
    seconds: float
    error: str | None


# -- the callers (in a process of their own, as Asterisk would be) ------------------------


def one_call(port: int, n: int, run: str, verifies: bool) -> Call:
    """A caller who verifies (payment failure, account, PIN, then 9: goodbye), or one who
    asks for a person (1 0) and hangs up at the hold."""
    from agi_fake import FakeAsterisk, environment

    call_id = f"{run}.{n}"
    env = environment(
        "fastagi_session.txt",
        agi_network_script="hotline",
        agi_uniqueid=call_id,
        agi_callerid=f"+1555{n:07d}",
    )
    keys = f"1 2 {FIRST_ACCOUNT + n}# {PIN} 9" if verifies else "1 0"
    fake = FakeAsterisk(keys, env=env)
    start = time.perf_counter()
    pin_in_at: float | None = None
    silence: float | None = None
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=CALL_TIMEOUT) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            reader = sock.makefile("r", encoding="utf-8", newline="\n")
            writer = sock.makefile("w", encoding="utf-8", newline="\n")
            writer.write("".join(f"{line}\n" for line in fake.environment) + "\n")
            writer.flush()
            for command in reader:
                if pin_in_at is not None and silence is None:
                    silence = time.perf_counter() - pin_in_at
                lines = fake.reply(command)
                if fake.state == "closed":
                    break
                writer.write("".join(f"{line}\n" for line in lines))
                writer.flush()
                if verifies and pin_in_at is None and len(fake.script) == 1:  # the 9 is left
                    pin_in_at = time.perf_counter()
        error = None
    except OSError as exc:
        error = f"{type(exc).__name__}: {exc}"
    outcome = fake.variables.get("IVR_OUTCOME")
    return Call(call_id, outcome, silence, time.perf_counter() - start, error)


Calls = tuple[list[Call], list[Call]]


def _callers(port: int, numbers: list[int], run: str, together: bool, others: int) -> Calls:
    """The verifying callers, and ``others`` callers for a person: one after another, or
    all verifying callers at once with the others arriving while their PINs are checked."""
    if not together:
        verifying = [one_call(port, n, run, True) for n in numbers]
        return verifying, [one_call(port, n, f"{run}-other", False) for n in range(others)]
    with ThreadPoolExecutor(max_workers=len(numbers) + others) as pool:
        burst = [pool.submit(one_call, port, n, run, True) for n in numbers]
        time.sleep(OTHERS_AFTER)
        late = []
        for n in range(others):
            late.append(pool.submit(one_call, port, n, f"{run}-other", False))
            time.sleep(OTHERS_EVERY)
        return [f.result() for f in burst], [f.result() for f in late]


def callers(
    port: int, numbers: list[int], run: str, together: bool, others: int
) -> tuple[Calls, float]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        started = time.perf_counter()
        calls = pool.submit(_callers, port, numbers, run, together, others).result()
        return calls, time.perf_counter() - started


# -- the controller and its database --------------------------------------------------------


class Unavailable(Exception):
    """The backend cannot be measured here (no server)."""


@contextmanager
def database(backend: str, folder: Path, accounts: int) -> Iterator[str]:
    """A new database of ``backend``, upgraded and seeded; dropped afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'pin_burst.sqlite3'}"
        seed(url, accounts)
        yield url
        return
    server = os.environ.get("IVR_TEST_POSTGRES_URL") or DEFAULT_POSTGRES
    admin = create_engine(
        server,
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 5},
    )
    name = f"ivr_bench_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as exc:
        raise Unavailable(f"no PostgreSQL at {redact(server)}: {exc.__class__.__name__}") from exc
    try:
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
        seed(url, accounts)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(url: str, accounts: int) -> None:
    """The schema, and one account per caller (one PIN hash shared: seeding stays fast)."""
    engine = connect(url)
    try:
        schema.upgrade(engine)
        stored = pins.hash_pin(PIN, PEPPER.encode())
        with sessionmaker(engine).begin() as session:
            for n in range(accounts):
                session.add(
                    m.AccountRow(
                        number=str(FIRST_ACCOUNT + n), holder_name=f"Caller {n}",
                        phone=f"+1555{n:07d}", language="en", pin_hash=stored,
                        status="active", balance_minor=0, currency="USD",
                    )
                )  # fmt: skip
    finally:
        engine.dispose()


@contextmanager
def controller(url: str, root: Path, calls: int, folder: Path) -> Iterator[int]:
    """``ivr fastagi`` from ``root`` on ``url``; yields its port, stops it with SIGTERM."""
    with controller_process(url, root, calls, folder) as (port, _):
        yield port


@contextmanager
def controller_process(
    url: str, root: Path, calls: int, folder: Path
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``controller``, yielding the port and the process (``bench/fastagi_peer.py``
    measures its CPU and memory)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "IVR_DATABASE_URL": url,
        "IVR_FLOW": str(root / "callflows.yaml"),
        "IVR_PEPPER": PEPPER,
        "IVR_SECRET_KEY": "pin-burst",
        "IVR_LOG_LEVEL": "ERROR",
        "IVR_FASTAGI_MAX_CALLS": str(calls),
    }
    log = (folder / f"controller-{port}.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "ivr.app.cli", "fastagi", "--listen", f"127.0.0.1:{port}"],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise SystemExit(f"ivr fastagi did not start:\n{log.read()}") from None
                time.sleep(0.1)
        yield port, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.seek(0)
        lines = log.read().splitlines()
        errors = [line for line in lines if "ERROR" in line]
        if errors:
            print(f"  controller logged {len(errors)} errors, the first: {errors[0]}")
            # the exceptions of their tracebacks ("sqlalchemy.exc.TimeoutError: ..."), most
            # frequent first
            raised = Counter(line for line in lines if EXCEPTION_LINE.match(line))
            for line, times in raised.most_common(2):
                print(f"  {times} times: {line[:300]}")
        log.close()


def recorded(url: str, run: str) -> tuple[set[str], set[str]]:
    """Call ids of ``run`` (and ``run``-other) with exactly one closed call record, and
    those with a successful verification."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            closed = conn.execute(
                text(
                    "SELECT call_id FROM call_records WHERE call_id LIKE :run "
                    "GROUP BY call_id HAVING COUNT(*) = 1 AND COUNT(ended_at) = 1"
                ),
                {"run": f"{run}%"},
            ).scalars()
            verified = conn.execute(
                text(
                    "SELECT DISTINCT call_id FROM verification_attempts "
                    "WHERE succeeded AND call_id LIKE :run"
                ),
                {"run": f"{run}.%"},
            ).scalars()
            return set(closed), set(verified)
    finally:
        engine.dispose()


# -- the measurement ------------------------------------------------------------------------


def hashing_bound(samples: int) -> float:
    """PIN checks per second on one thread per core: no burst of calls can go faster."""
    stored = pins.hash_pin(PIN, PEPPER.encode())
    cores = os.cpu_count() or 1
    with ThreadPoolExecutor(cores) as pool:
        started = time.perf_counter()
        list(pool.map(lambda _: pins.pin_matches(PIN, stored, PEPPER.encode()), range(samples)))
        return samples / (time.perf_counter() - started)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(backend: str, root: Path, calls: int, solo: int, others: int, bound: float) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        with database(backend, folder, max(calls, solo)) as url:
            with controller(url, root, calls + others, folder) as port:
                (alone, alone_others), _ = callers(port, list(range(solo)), "solo", False, solo)
                (burst, bystanders), elapsed = callers(
                    port, list(range(calls)), "burst", True, others
                )
            closed, verified = recorded(url, "burst")  # after the controller stopped
    ids = {c.call_id for c in burst}
    everyone = burst + bystanders
    errors = [c for c in burst if c.error or c.outcome != "solved"]
    errors += [c for c in bystanders if c.error or c.outcome != "queued"]
    silences = [c.silence for c in burst if c.silence is not None]
    floor = statistics.median([c.silence for c in alone if c.silence is not None])
    print(f"{backend}: {calls} callers verifying at once, {others} more asking for a person")
    print(f"  controller:            {root}")
    print(f"  lost records:          {len({c.call_id for c in everyone} - closed)}")
    print(f"  failed verifications:  {len(ids - verified)}")
    print(f"  errors:                {len(errors)}", end="")
    print(f" (first: {errors[0].error or errors[0].outcome})" if errors else "")
    if silences:
        p50, p99 = quantile(silences, 0.5), quantile(silences, 0.99)
        print(
            f"  silence after the PIN: p50 {p50 * 1000:6.0f} ms, p99 {p99 * 1000:6.0f} ms, "
            f"max {max(silences) * 1000:6.0f} ms; one caller alone: {floor * 1000:.0f} ms"
        )
    if bystanders and alone_others:
        mid = quantile([c.seconds for c in bystanders], 0.5)
        worst = max(c.seconds for c in bystanders)
        calm = statistics.median([c.seconds for c in alone_others])
        print(
            f"  callers for a person during the burst: whole call p50 {mid * 1000:6.0f} ms, "
            f"max {worst * 1000:6.0f} ms; alone: {calm * 1000:.0f} ms (p50 {mid / calm:.1f}x)"
        )
    rate = calls / elapsed
    print(
        f"  calls/s:               {rate:6.1f} ({elapsed:.1f} s in all); the PIN checks "
        f"alone on {os.cpu_count()} cores: {bound:6.1f}/s (calls/s {rate / bound:.2f}x of it)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--solo", type=int, default=5, help="calls made alone, the peer")
    parser.add_argument("--others", type=int, default=10, help="callers for a person")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--root", type=Path, default=ROOT, help="the controller's checkout")
    args = parser.parse_args()
    bound = hashing_bound(16 * (os.cpu_count() or 1))
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        try:
            measure(backend, args.root.resolve(), args.calls, args.solo, args.others, bound)
        except Unavailable as exc:
            print(f"{backend}: not measured: {exc}")


if __name__ == "__main__":
    main()
