"""Shared fixtures: the real hotline flow, its engine, a fixed clock, a fake store with the
demo accounts, use cases on units of work over it, and a ``hotline`` that dials calls into
``CallSession``s.

Every time the tests use comes from one chosen date (``IVR_TEST_START``, default today):
see ``start_date``. Tests that need the time take the ``clock`` fixture or these times."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from fakes import SECRET, Dialer, FakeStore, FakeUnitOfWork, FixedClock, PlainPins
from start_date import CLOCK_ENV, CLOSED_TIME, OPEN, OPEN_TIME, SHANGHAI, START_DATE, START_ENV

from ivr.app.bootstrap import load_hotline
from ivr.flow.engine import Engine
from ivr.flow.model import Flow
from ivr.services.usecases import UseCases

ROOT = Path(__file__).resolve().parent.parent
FLOW_PATH = ROOT / "callflows.yaml"
__all__ = ["CLOSED_TIME", "OPEN_TIME", "SHANGHAI"]
#: Modules that read no clock, neither the tests nor the code they run (the YAML loader and
#: its bounds, ``ivr validate``, the import rules, the worker groups, the operator's kit
#: files; the property tests' calls start in literal weeks): marked ``date_free``, which
#: ``make test-dates`` leaves out (``-m "not date_free"``), their outcome being the same
#: on any date.
DATE_FREE = frozenset(
    {
        "tests/unit/flow/test_yaml_bombs.py",
        "tests/unit/flow/test_properties.py",
        "tests/unit/app/test_validate_cli.py",
        "tests/unit/test_layers.py",
        "tests/unit/test_purity.py",
        "tests/unit/test_worker_groups.py",
        "tests/integration/ops/test_compose.py",
        "tests/integration/ops/test_systemd.py",
    }
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "date_free: reads no clock (tests/conftest.py DATE_FREE)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.split("::", 1)[0] in DATE_FREE:
            item.add_marker(pytest.mark.date_free)


def pytest_report_header() -> str:
    return f"clock: {START_ENV}={START_DATE}, calls at {OPEN_TIME:%a %Y-%m-%d %H:%M %Z}"


@pytest.fixture(scope="session", autouse=True)
def processes_start_at_the_chosen_date() -> Iterator[None]:
    """Any process a test starts with this environment, and any ``Settings.from_env()``,
    runs on a clock that starts at ``OPEN``, never on today's date. Tests that start a
    process at another time pass ``clock_environment(clock)`` themselves."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CLOCK_ENV, OPEN)
        yield


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
    return UseCases(unit_of_work, clock, lambda: SECRET, PlainPins())


@pytest.fixture
def hotline(engine: Engine, use_cases: UseCases, clock: FixedClock) -> Dialer:
    """Dials calls into the real flow: ``hotline.call("1 2 10000001# 246810")``."""
    return Dialer(engine, use_cases, clock)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``-n N`` (``--dist load``, the default, or ``loadgroup``), whole groups go to
    a worker: ``worker_groups``."""
    if config.getvalue("dist") not in ("load", "loadgroup"):
        return None
    from worker_groups import GroupScheduling

    return GroupScheduling(config, log)
