"""The call loop's line ration (``ivr.phone.asterisk.loop_gate``): calls woken for their
peers' lines a few a pass of the loop, in order of arrival; a call holding a connection
woken at once; a wake-up that comes late (the call timed out, or was cancelled, in the
line) wakes nothing and is no end of input."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from ivr.phone.asterisk.fastagi_loop import LineProtocol
from ivr.phone.asterisk.loop_gate import CallMark, LineRation


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    running = asyncio.new_event_loop()
    yield running
    running.close()


def one_pass(loop: asyncio.AbstractEventLoop) -> None:
    """Run the loop for one pass: what is ready now, not what that makes ready."""
    loop.call_soon(loop.stop)
    loop.run_forever()


def test_calls_are_woken_a_few_a_pass_in_order_of_arrival(
    loop: asyncio.AbstractEventLoop,
) -> None:
    ration = LineRation(loop, per_pass=2)
    woken: list[int] = []
    for n in range(5):
        ration.wake(lambda n=n: woken.append(n))  # type: ignore[misc]
    assert woken == [] and ration.waiting == 5
    one_pass(loop)
    assert woken == [0, 1]
    one_pass(loop)
    assert woken == [0, 1, 2, 3]
    one_pass(loop)
    assert woken == [0, 1, 2, 3, 4] and ration.waiting == 0
    ration.wake(lambda: woken.append(5))  # an empty line: the next pass wakes it
    one_pass(loop)
    assert woken[-1] == 5


def test_a_call_holding_a_connection_is_woken_at_once(loop: asyncio.AbstractEventLoop) -> None:
    ration = LineRation(loop, per_pass=1)
    woken: list[str] = []
    holder, other = CallMark(), CallMark()
    holder.first = 1  # as the loop engine's check-out makes it (``ivr.app.gate_waits``)
    ration.wake(lambda: woken.append("other"), other)
    ration.wake(lambda: woken.append("holder"), holder)
    assert woken == ["holder"] and ration.waiting == 1
    one_pass(loop)
    assert woken == ["holder", "other"]


def test_a_wake_up_that_comes_after_the_call_timed_out_is_no_end_of_input(
    loop: asyncio.AbstractEventLoop,
) -> None:
    ration = LineRation(loop, per_pass=0)  # nobody woken: the call times out in the line
    protocol = LineProtocol(1024, ration)

    async def call() -> list[object]:
        seen: list[object] = []
        reading = asyncio.ensure_future(protocol.chunk(0.05))
        await asyncio.sleep(0)
        protocol.data_received(b"200 result=0\n")  # its wake-up waits in the line
        try:
            await reading
        except TimeoutError:
            seen.append("timed out")
        seen.append(protocol.arrived())  # the line was in all the same
        ration.per_pass = 1  # the late wake-up is let through while it waits again
        try:
            seen.append(await protocol.chunk(0.05))
        except TimeoutError:
            seen.append("timed out, no end of input")
        return seen

    seen = loop.run_until_complete(call())
    assert seen == ["timed out", b"200 result=0\n", "timed out, no end of input"]
    assert ration.waiting == 0


def test_a_call_cancelled_in_the_line_leaves_a_wake_up_that_wakes_nothing(
    loop: asyncio.AbstractEventLoop,
) -> None:
    ration = LineRation(loop, per_pass=0)
    protocol = LineProtocol(1024, ration)

    async def call() -> None:
        reading = asyncio.ensure_future(protocol.chunk(None))
        await asyncio.sleep(0)
        protocol.eof_received()  # the peer hung up: its wake-up waits in the line
        reading.cancel()  # the call is killed meanwhile
        with pytest.raises(asyncio.CancelledError):
            await reading
        ration.per_pass = 1
        await asyncio.sleep(0.01)

    loop.run_until_complete(call())
    assert ration.waiting == 0 and protocol.arrived() == b""  # the end, for a next read
