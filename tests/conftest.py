"""Shared fixtures: the real hotline flow, its engine, a fixed clock, a fake store with the
demo accounts, use cases on units of work over it, and a ``hotline`` that dials calls into
``CallSession``s."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fakes import SECRET, Dialer, FakeStore, FakeUnitOfWork, FixedClock

from ivr.bootstrap import load_hotline
from ivr.flow.engine import Engine
from ivr.flow.model import Flow
from ivr.services.usecases import UseCases

ROOT = Path(__file__).resolve().parent.parent
FLOW_PATH = ROOT / "callflows.yaml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Monday 23 November 2026, 10:00 in Beijing: the agents are in.
OPEN_TIME = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
#: The same Monday at 22:30 in Beijing: the agents have gone home.
CLOSED_TIME = datetime(2026, 11, 23, 22, 30, tzinfo=SHANGHAI)


@pytest.fixture(scope="session")
def flow() -> Flow:
    return load_hotline(FLOW_PATH)


@pytest.fixture(scope="session")
def engine(flow: Flow) -> Engine:
    return Engine(flow)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(OPEN_TIME.astimezone(UTC))


@pytest.fixture
def store() -> FakeStore:
    """The committed data: the demo accounts, and whatever the use cases commit."""
    return FakeStore.with_demo_accounts()


@pytest.fixture
def unit_of_work(store: FakeStore) -> Callable[[], FakeUnitOfWork]:
    """The factory the use cases open one unit of work with, per use case."""
    return store.unit_of_work


@pytest.fixture
def use_cases(unit_of_work: Callable[[], FakeUnitOfWork], clock: FixedClock) -> UseCases:
    return UseCases(unit_of_work, clock, lambda: SECRET)


@pytest.fixture
def hotline(engine: Engine, use_cases: UseCases, clock: FixedClock) -> Dialer:
    """Dials calls into the real flow: ``hotline.call("1 2 10000001# 246810")``."""
    return Dialer(engine, use_cases, clock)
