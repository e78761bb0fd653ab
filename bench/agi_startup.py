"""How long a per-call AGI process takes to start, against bare Python in the same run.

Spawns ``agi_scripts/hotline.agi`` as Asterisk would (an environment block on stdin, cwd
not the project) and measures from just before the spawn to the first AGI command on
stdout (``ANSWER``), then to the first prompt (``STREAM FILE``). Two ways, on a seeded
SQLite database:

- *relay*: the controller runs (``ivr fastagi`` on a free port, started here, its port in
  ``IVR_FASTAGI_PORT``): the script relays the call to it (``ivr.phone.asterisk.agi_relay``);
- *fallback*: the controller is down (``IVR_FASTAGI_PORT`` names a closed port): the script
  runs the engine in-process (loading the flow and checking the database schema come
  between ANSWER and the first prompt: the silence a caller hears).

Each call then hangs up (end of input) and must exit with status 0. The peers, measured
the same way in the same run, turn by turn with ours (a busy machine slows all alike):
``python -c pass`` (to exit) and a minimal pyst2 script (``AGI()``, ``answer()``), both on
the same interpreter, and ``python -S -c pass`` (the interpreter without its site packages:
the floor; the relay's own peer in one figure, named in its label). Environment variables
``PYTHON*`` are not passed on: ``.pyc`` files are written and used, as an installed package's
are. Medians; the target is the relay's start-up <= 1.5x ``python -c pass``.
The CPU figures are the script's process only (a relayed call's work is the controller's:
``bench/fastagi_load.py`` measures that); on a busy machine they vary less than the times.

    .venv/bin/python bench/agi_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "agi_scripts" / "hotline.agi"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from figures import Figure, show  # noqa: E402

ENVIRONMENT = (
    "agi_request: hotline.agi\nagi_channel: PJSIP/caller-00000001\nagi_language: en\n"
    "agi_type: PJSIP\nagi_uniqueid: {n}\nagi_version: 22.10.1\nagi_callerid: +15550000000\n"
    "agi_calleridname: bench\nagi_dnid: 100\nagi_context: hotline\nagi_extension: 100\n"
    "agi_priority: 2\nagi_enhanced: 0.0\nagi_accountcode: \nagi_threadid: 1\n\n"
)
MINIMAL_PYST2 = (
    "import sys\nfrom asterisk.agi import AGI\n"
    "agi = AGI()\nagi.answer()\n"
)  # fmt: skip

#: To the first command, to the first prompt, the process's CPU (user and system).
Timings = tuple[float, float | None, float]

#: The PIN hashes' key in the benchmark's database and its scripts' environment.
PEPPER = "bench-pepper"


def seeded_database(folder: str) -> str:
    from sqlalchemy.orm import sessionmaker

    from ivr.services.clock import SystemClock
    from ivr.store import schema
    from ivr.store.db import connect
    from ivr.store.seed import seed_demo

    url = f"sqlite:///{folder}/bench.sqlite3"
    engine = connect(url)
    schema.upgrade(engine)
    seed_demo(sessionmaker(engine), SystemClock().now(), pepper=PEPPER.encode())
    engine.dispose()
    return url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def controller(env: dict[str, str], cwd: str) -> Iterator[int]:
    """``ivr fastagi`` on a free port, until the block ends; its port."""
    port = free_port()
    ivr = Path(sys.executable).with_name("ivr")
    argv = [str(ivr), "fastagi", "--listen", f"127.0.0.1:{port}"]
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("ivr fastagi did not start") from None
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_call(argv: list[str], call_id: str, env: dict[str, str], cwd: str) -> Timings:
    cpu = children_cpu()
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env, cwd=cwd,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(ENVIRONMENT.format(n=call_id))
    process.stdin.flush()
    first = process.stdout.readline()
    answered = time.perf_counter() - start
    if not first.startswith("ANSWER"):
        err = ended(process)
        raise SystemExit(f"{argv[-1]}: first command {first!r}, expected ANSWER: {err[-500:]}")
    process.stdin.write("200 result=0\n")
    process.stdin.flush()
    second = process.stdout.readline()
    prompt = time.perf_counter() - start if second.startswith("STREAM FILE") else None
    process.stdin.close()  # the caller hangs up: end of input
    err = ended(process)
    if process.returncode != 0:
        raise SystemExit(f"{argv[-1]}: exit status {process.returncode}: {err[-500:]}")
    return answered, prompt, children_cpu() - cpu


def ended(process: subprocess.Popen[str]) -> str:
    """What the process wrote on stderr, once it exited."""
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read()
    err = process.stderr.read()
    process.wait(timeout=30)
    return err


def python_pass(env: dict[str, str], cwd: str, *options: str) -> Timings:
    cpu = children_cpu()
    start = time.perf_counter()
    subprocess.run([sys.executable, *options, "-c", "pass"], check=True, env=env, cwd=cwd)
    return time.perf_counter() - start, None, children_cpu() - cpu


def turns(runs: int, series: dict[str, Callable[[str], Timings]]) -> dict[str, list[Timings]]:
    """Each series once per turn (after one turn to warm the file cache and .pyc files)."""
    results: dict[str, list[Timings]] = {name: [] for name in series}
    for turn in range(-1, runs):
        for name, work in series.items():
            timings = work(f"{name}.{turn}")
            if turn >= 0:
                results[name].append(timings)
    return results


def median(values: list[float | None]) -> float:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "PYTHON"))}
        env |= {"IVR_DATABASE_URL": seeded_database(folder), "IVR_LOG_LEVEL": "ERROR"}
        env |= {"IVR_PEPPER": PEPPER, "IVR_FLOW": str(ROOT / "callflows.yaml")}
        minimal = Path(folder) / "minimal.py"
        minimal.write_text(MINIMAL_PYST2, encoding="utf-8")
        down = env | {"IVR_FASTAGI_PORT": str(free_port())}  # nothing listens there

        with controller(env, folder) as port:
            up = env | {"IVR_FASTAGI_PORT": str(port)}
            series: dict[str, Callable[[str], Timings]] = {
                "pass": lambda _: python_pass(env, folder),
                "bare": lambda _: python_pass(env, folder, "-S"),
                "pyst2": lambda n: one_call([sys.executable, str(minimal)], n, env, folder),
                "relay": lambda n: one_call([str(SCRIPT)], n, up, folder),
                "fallback": lambda n: one_call([str(SCRIPT)], n, down, folder),
            }
            results = turns(args.runs, series)

    first = {name: median([t[0] for t in got]) for name, got in results.items()}
    prompt = {name: median([t[1] for t in got]) for name, got in results.items()}
    cpu = {name: median([t[2] for t in got]) for name, got in results.items()}
    bare = first["pass"]
    show(
        f"Per-call AGI start-up, median of {args.runs} runs",
        [
            Figure("relay: start to ANSWER", first["relay"], bare, "s", want="<= 1.5"),
            Figure("relay: start to first prompt", prompt["relay"], bare, "s"),
            Figure("minimal pyst2 script: start to ANSWER", first["pyst2"], bare, "s"),
            Figure("fallback (controller down): to ANSWER", first["fallback"], bare, "s"),
            Figure("fallback: start to first prompt", prompt["fallback"], bare, "s"),
            Figure("relay: CPU of the script's process", cpu["relay"], cpu["pass"], "s"),
            Figure("relay: to ANSWER / python -S -c pass", first["relay"], first["bare"], "s"),
            Figure("fallback: CPU of the script's process", cpu["fallback"], cpu["pass"], "s"),
        ],
        peer=f"python -c pass, to exit ({sys.executable})",
    )


if __name__ == "__main__":
    main()
