"""How long a per-call AGI process takes to start, against bare Python in the same run.

Spawns ``agi_scripts/hotline.agi`` N times, as Asterisk would (an environment block on
stdin, cwd not the project), against a seeded SQLite database, and measures from just
before the spawn to the first AGI command on stdout (``ANSWER``), then to the first prompt
(``STREAM FILE``: loading the flow and checking the database schema come in between, so
this is the silence a caller hears). Each call then hangs up (end of input) and must exit
with status 0. Baselines, measured the same way in the same run: ``python -c pass`` (to
exit) and a minimal AGI script (the venv's Python reading the environment and printing
ANSWER). The ratios make the figures comparable across machines.

    .venv/bin/python bench/agi_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "agi_scripts" / "hotline.agi"
sys.path.insert(0, str(ROOT))

ENVIRONMENT = (
    "agi_request: hotline.agi\nagi_channel: PJSIP/caller-00000001\nagi_language: en\n"
    "agi_type: PJSIP\nagi_uniqueid: {n}\nagi_version: 22.10.1\nagi_callerid: +15550000000\n"
    "agi_calleridname: bench\nagi_dnid: 100\nagi_context: hotline\nagi_extension: 100\n"
    "agi_priority: 2\nagi_enhanced: 0.0\nagi_accountcode: \nagi_threadid: 1\n\n"
)
MINIMAL_AGI = (
    "import sys\n"
    "while sys.stdin.readline().strip():\n    pass\n"
    "sys.stdout.write('ANSWER\\n'); sys.stdout.flush()\n"
    "sys.stdin.readline()\n"
)

Timings = tuple[float, float | None]  # to the first command, to the first prompt


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


def one_call(argv: list[str], n: int, env: dict[str, str], cwd: str) -> Timings:
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=cwd
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(ENVIRONMENT.format(n=f"bench.{n}"))
    process.stdin.flush()
    first = process.stdout.readline()
    answered = time.perf_counter() - start
    if not first.startswith("ANSWER"):
        raise SystemExit(f"{argv[-1]}: first command {first!r}, expected ANSWER")
    process.stdin.write("200 result=0\n")
    process.stdin.flush()
    second = process.stdout.readline()
    prompt = time.perf_counter() - start if second.startswith("STREAM FILE") else None
    process.stdin.close()  # the caller hangs up: end of input
    process.stdout.read()
    code = process.wait(timeout=30)
    if code != 0:
        raise SystemExit(f"{argv[-1]}: exit status {code}")
    return answered, prompt


def python_pass(env: dict[str, str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True, env=env, cwd=cwd)
    return time.perf_counter() - start


def summary(label: str, values: list[float], baseline: float | None = None) -> str:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    ratio = f"  {statistics.mean(values) / baseline:5.1f}x baseline" if baseline else ""
    return (
        f"{label:<34} mean {statistics.mean(ms):7.1f} ms  median {statistics.median(ms):7.1f}"
        f"  p95 {p95:7.1f}{ratio}"
    )


def repeat(runs: int, work: Callable[[int], Timings]) -> tuple[list[float], list[float]]:
    work(-1)  # warm the file cache and .pyc files
    answers, prompts = [], []
    for n in range(runs):
        answered, prompt = work(n)
        answers.append(answered)
        if prompt is not None:
            prompts.append(prompt)
    return answers, prompts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
        env |= {"IVR_DATABASE_URL": seeded_database(folder), "IVR_LOG_LEVEL": "ERROR"}
        env |= {"IVR_PEPPER": PEPPER}
        minimal = Path(folder) / "minimal.py"
        minimal.write_text(MINIMAL_AGI, encoding="utf-8")

        bare = [python_pass(env, folder) for _ in range(args.runs + 1)][1:]
        minimal_agi = [sys.executable, str(minimal)]
        base, _ = repeat(args.runs, lambda n: one_call(minimal_agi, n, env, folder))
        answers, prompts = repeat(args.runs, lambda n: one_call([str(SCRIPT)], n, env, folder))

    baseline = statistics.mean(base)
    print(f"hotline.agi start-up, {args.runs} runs each ({sys.executable})")
    print(summary("baseline: python -c pass (to exit)", bare))
    print(summary("baseline: minimal AGI, to ANSWER", base))
    print(summary("hotline.agi, to ANSWER", answers, baseline))
    print(summary("hotline.agi, to the first prompt", prompts, baseline))


if __name__ == "__main__":
    main()
