"""How fast the engine walks the real hotline, against a do-nothing step in the same run.

Prints: flow load time, engine steps per second over scripted calls, and the ratio of an
engine step's cost to a trivial function call (the baseline), so the figure means the same
on any machine.
"""

from __future__ import annotations

import time
from pathlib import Path

from ivr.app.bootstrap import load_hotline
from ivr.flow.engine import Engine
from ivr.flow.events import Digits, Event, Result, Timeout
from ivr.flow.state import CallStart, CallState

ROOT = Path(__file__).resolve().parent.parent
# One payment-failure call: language, menu, account, PIN, use-case results, goodbye.
SCRIPT: list[Event] = [
    Digits("1"),
    Timeout(),
    Digits("2"),
    Digits("10000001#"),
    Digits("246810"),
    Result("success", {"account_number": "10000001", "holder_name": "Li Wei"}),
    Result(
        "found",
        {
            "amount": "89.90 yuan",
            "merchant": "Fresh Mart",
            "date": "November 20",
            "failure_reason": "insufficient_funds",
        },
    ),
    Digits("9"),
]


def baseline(state: CallState, event: Event) -> tuple[CallState, list[object]]:
    return state, [event]


def timed(calls: int, run: object) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        run()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    t0 = time.perf_counter()
    flow = load_hotline(ROOT / "callflows.yaml")
    load_ms = (time.perf_counter() - t0) * 1000
    engine = Engine(flow)
    call = CallStart("bench", ani="+8613800138001", started_at=1_763_870_400.0)

    def one_call() -> None:
        state, _ = engine.start(call)
        for event in SCRIPT:
            state, _ = engine.step(state, event)
        assert state.ended, state

    def one_baseline() -> None:
        state = CallState(node="x", language="en", started_at=0.0)
        for event in SCRIPT:
            state, _ = baseline(state, event)

    calls = 3000
    engine_s = timed(calls, one_call)
    base_s = timed(calls, one_baseline)
    steps = calls * (len(SCRIPT) + 1)
    print(f"flow load:             {load_ms:8.1f} ms ({len(flow.nodes)} nodes)")
    per_step_us = engine_s / steps * 1e6
    print(f"engine:                {steps / engine_s:8.0f} steps/s ({per_step_us:.1f} us/step)")
    print(f"baseline (no-op step): {steps / base_s:8.0f} steps/s")
    print(f"ratio engine/baseline: {engine_s / base_s:8.1f}x")


if __name__ == "__main__":
    main()
