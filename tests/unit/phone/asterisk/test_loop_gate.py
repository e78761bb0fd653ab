"""The call loop's gate (``ivr.phone.asterisk.loop_gate``): slots served in order of arrival,
a call that holds a connection at the head of the line, a slot given up at every wait and
given back however a call ends (done, failed, cancelled while it waits or while in line)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from sqlalchemy.util.concurrency import await_, in_greenlet

from ivr.phone.asterisk.loop_gate import LoopGate, current_call, first_meanwhile, run_gated


def run(main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    return asyncio.run(main())


def full(gate: LoopGate) -> bool:
    """Every slot free, nobody in line."""
    return gate.free == gate.slots and gate.waiting == 0


def test_slots_go_in_order_of_arrival_the_first_takers_before_the_others() -> None:
    async def main() -> list[str]:
        gate = LoopGate(1)
        served: list[str] = []
        await gate.take()  # the one slot: held

        async def wants(name: str, first: bool = False) -> None:
            await gate.take(first)
            served.append(name)
            gate.give()

        waiting = [asyncio.create_task(wants("a")), asyncio.create_task(wants("b"))]
        await asyncio.sleep(0)
        for name in ("back from the database", "back from it next"):
            waiting.append(asyncio.create_task(wants(name, first=True)))
            await asyncio.sleep(0)
        assert gate.waiting == 4 and gate.free == 0
        gate.give()
        await asyncio.gather(*waiting)
        assert full(gate)
        return served

    assert run(main) == ["back from the database", "back from it next", "a", "b"]


def test_a_taker_cancelled_in_line_leaves_it_and_one_cancelled_as_it_was_served_passes_on() -> None:
    async def main() -> None:
        gate = LoopGate(1)
        await gate.take()
        in_line = asyncio.create_task(gate.take())
        served = asyncio.create_task(gate.take())
        last = asyncio.create_task(gate.take())
        await asyncio.sleep(0)
        in_line.cancel()
        await asyncio.sleep(0)
        assert gate.waiting == 2  # it left the line
        gate.give()  # to ``served``, which is cancelled before it runs again
        served.cancel()
        await asyncio.gather(in_line, served, return_exceptions=True)
        await last  # the slot went on to the next in line
        gate.give()
        assert full(gate)

    run(main)


def test_a_call_runs_only_while_it_holds_a_slot_and_waits_without_one() -> None:
    async def main() -> list[str]:
        gate = LoopGate(1)
        steps: list[str] = []

        def call(name: str) -> str:
            assert in_greenlet() and current_call() is not None
            steps.append(f"{name} 1")
            await_(asyncio.sleep(0.01))  # a wait: the slot goes to the other call
            steps.append(f"{name} 2")
            return name

        results = await asyncio.gather(run_gated(gate, call, "a"), run_gated(gate, call, "b"))
        assert results == ["a", "b"] and full(gate)
        return steps

    assert run(main) == ["a 1", "b 1", "a 2", "b 2"]


def test_a_call_holding_a_connection_takes_its_slot_back_before_calls_that_hold_none() -> None:
    async def main() -> list[str]:
        gate = LoopGate(1)
        order: list[str] = []
        back = asyncio.Event()

        def holder() -> None:
            call = current_call()
            assert call is not None
            call.first += 1  # as the pool's check-out does (``ivr.app.gate_waits``)
            await_(back.wait())  # a round trip
            order.append("holder")
            call.first -= 1

        def plain(name: str) -> None:
            await_(back.wait())  # its peer's answer
            order.append(name)

        calls = [run_gated(gate, plain, "a"), run_gated(gate, holder), run_gated(gate, plain, "b")]
        running = asyncio.gather(*calls)
        await asyncio.sleep(0.01)
        await gate.take()  # some other call is running
        back.set()  # all three come back meanwhile, and wait in line
        await asyncio.sleep(0.01)
        assert gate.waiting == 3
        gate.give()
        await running
        assert full(gate)
        return order

    assert run(main) == ["holder", "a", "b"]


def test_a_wait_for_a_connection_counts_as_holding_one_only_meanwhile() -> None:
    async def main() -> None:
        def call() -> tuple[int, int, int]:
            this = current_call()
            assert this is not None
            with first_meanwhile():
                during = this.first
            return during, this.first, 0

        assert await run_gated(LoopGate(1), call) == (1, 0, 0)
        with first_meanwhile():  # outside a call: nothing to mark
            pass

    run(main)


def test_a_call_that_fails_gives_its_slot_back_and_its_error_goes_up() -> None:
    async def main() -> None:
        gate = LoopGate(1)

        def failing() -> None:
            await_(asyncio.sleep(0))
            raise LookupError("the database went away")

        with pytest.raises(LookupError, match="went away"):
            await run_gated(gate, failing)
        assert full(gate)

    run(main)


def test_a_wait_that_fails_is_raised_in_the_call_which_may_go_on() -> None:
    async def main() -> str:
        gate = LoopGate(1)

        async def lost() -> None:
            raise ConnectionResetError("the peer hung up")

        def call() -> str:
            try:
                await_(lost())
            except ConnectionResetError:
                await_(asyncio.sleep(0))  # its clean-up waits too
                return "cleaned up"
            return "not raised"

        result: str = await run_gated(gate, call)
        assert full(gate)
        return result

    assert run(main) == "cleaned up"


def test_a_call_killed_while_it_waits_cleans_up_and_gives_its_slot_back() -> None:
    async def main() -> list[str]:
        gate = LoopGate(1)
        seen: list[str] = []
        started = asyncio.Event()

        def call() -> None:
            try:
                started.set()
                await_(asyncio.sleep(60))  # a transaction's round trip that never ends
            except asyncio.CancelledError:
                seen.append("cancelled")
                await_(asyncio.sleep(0))  # its rollback
                seen.append("rolled back")
                raise

        task = asyncio.create_task(run_gated(gate, call))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert full(gate)
        return seen

    assert run(main) == ["cancelled", "rolled back"]


def test_a_call_killed_while_in_line_for_its_slot_is_told_and_cleans_up() -> None:
    async def main() -> list[str]:
        gate = LoopGate(1)
        seen: list[str] = []

        def call() -> None:
            try:
                await_(asyncio.sleep(0.05))  # back from it: but the slot is taken
            except asyncio.CancelledError:
                seen.append("cancelled in line")
                await_(asyncio.sleep(0))  # its clean-up
                seen.append("cleaned up")
                raise

        task = asyncio.create_task(run_gated(gate, call))
        await asyncio.sleep(0)  # the call starts, then waits
        await gate.take()  # someone else holds the one slot
        await asyncio.sleep(0.1)
        assert gate.waiting == 1
        task.cancel()
        await asyncio.sleep(0.01)
        assert seen == ["cancelled in line"]  # out of line, its clean-up waits for a slot
        gate.give()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert full(gate)
        return seen

    assert run(main) == ["cancelled in line", "cleaned up"]
