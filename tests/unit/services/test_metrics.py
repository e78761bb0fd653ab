"""The process's metrics (issue 13): what their labels may say, the calls in progress, and
the deadline a scrape's database read runs under."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from fakes import FixedClock
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from start_date import OPEN_UTC

from ivr.services.bounded_call import BoundedCall, StillRunning
from ivr.services.center_metrics import CenterCollector, CenterFigures, QueueFigure
from ivr.services.metrics import LiveCalls, command_word, label


@pytest.mark.parametrize(
    ("command", "word"),
    [
        ("ANSWER\n", "ANSWER"),
        ('STREAM FILE welcome ""\n', "STREAM FILE"),
        ('SAY DIGITS 246810 ""\n', "SAY DIGITS"),
        ("GET DATA ask-pin 5000 6\n", "GET DATA"),
        ("EXEC Dial PJSIP/alice,20\n", "EXEC"),
        ("SET VARIABLE IVR_OUTCOME queued\n", "SET VARIABLE"),
        ("246810\n", "other"),
        ("", "other"),
    ],
)
def test_an_agi_command_is_labelled_by_its_name_never_its_arguments(
    command: str, word: str
) -> None:
    assert command_word(command) == word


def test_a_label_is_a_plain_word_or_other() -> None:
    assert label("failure") == "failure"
    assert label("+8613800138001") == "other"
    assert label("x" * 41) == "other"


def test_a_call_counts_once_and_an_unknown_end_changes_nothing() -> None:
    gauge = Gauge("calls", "calls", ["channel"], registry=CollectorRegistry())
    calls = LiveCalls(gauge, most=3)

    calls.began("twilio", "CA1")
    calls.began("twilio", "CA1")  # a replayed first webhook
    calls.began("fastagi", "1.1")
    calls.ended("twilio", "CA9")  # started in another process
    assert gauge.labels("twilio")._value.get() == 1
    assert gauge.labels("fastagi")._value.get() == 1

    for n in range(10):  # status callbacks that never came: bounded
        calls.began("twilio", f"CA{n}")
    assert gauge.labels("twilio")._value.get() == 3
    calls.ended("twilio", "CA9")
    assert gauge.labels("twilio")._value.get() == 2


def test_a_bounded_call_gives_up_after_its_deadline_and_while_the_last_one_hangs() -> None:
    release = threading.Event()
    call = BoundedCall(lambda: release.wait(30), timeout=0.05)

    with pytest.raises(TimeoutError):
        call()
    with pytest.raises(StillRunning):
        call()
    release.set()
    deadline = time.monotonic() + 5
    while True:
        try:
            assert call() is True
            break
        except StillRunning:
            assert time.monotonic() < deadline


def test_a_failing_read_is_database_up_0_and_the_scrape_goes_on() -> None:
    def away() -> CenterFigures:
        raise ConnectionRefusedError("no")

    registry = CollectorRegistry()
    registry.register(CenterCollector(away, lambda: ["general"], FixedClock(OPEN_UTC), timeout=1))

    text = generate_latest(registry).decode()
    assert "ivr_database_up 0.0" in text and "ivr_queue_depth" not in text


def test_the_figures_read_become_depth_oldest_wait_and_agents() -> None:
    clock = FixedClock(OPEN_UTC)
    joined = clock.now() - timedelta(seconds=30)
    figures = CenterFigures(
        (QueueFigure("vip", "call", 2, joined), QueueFigure("vip", "callback", 1, None)),
        {"available": 2},
    )
    registry = CollectorRegistry()
    registry.register(CenterCollector(lambda: figures, lambda: ["general", "vip"], clock))

    text = generate_latest(registry).decode()
    assert 'ivr_queue_depth{kind="call",queue="vip"} 2.0' in text
    assert 'ivr_queue_depth{kind="callback",queue="vip"} 1.0' in text
    assert 'ivr_queue_depth{kind="call",queue="general"} 0.0' in text
    assert 'ivr_queue_oldest_wait_seconds{queue="vip"} 30.0' in text
    assert 'ivr_agents{state="available"} 2.0' in text
    assert 'ivr_agents{state="offline"} 0.0' in text


def test_a_hanging_read_costs_a_scrape_its_deadline_and_no_more() -> None:
    release = threading.Event()

    def hangs() -> CenterFigures:
        release.wait(30)
        return CenterFigures()

    registry = CollectorRegistry()
    registry.register(CenterCollector(hangs, lambda: ["general"], FixedClock(OPEN_UTC), 0.2))
    try:
        began = time.monotonic()
        first = generate_latest(registry).decode()
        second = generate_latest(registry).decode()  # the first read still hangs
        took = time.monotonic() - began
    finally:
        release.set()

    assert "ivr_database_up 0.0" in first and "ivr_database_up 0.0" in second
    assert took < 2
