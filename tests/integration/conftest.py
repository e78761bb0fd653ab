"""Databases for the integration tests, on both backends.

Every test that asks for ``database_url`` (or anything built on it) runs twice: on an
SQLite file in a temporary folder (id ``sqlite``) and on PostgreSQL (id ``postgresql``) at
``$IVR_TEST_POSTGRES_URL``. Each PostgreSQL database is created for the test as
``ivr_test_<random hex>`` and dropped (``WITH (FORCE)``) afterwards, so two runs never
share state. Without that URL, or with the server unreachable, the PostgreSQL tests skip
with a one-line reason; in CI (``CI=true``) they fail instead.

Seeding hashes five PINs with scrypt, so it is done once per process and backend into a
template database; each test gets its own copy of the template (``CREATE DATABASE ...
TEMPLATE`` on PostgreSQL, made ahead in the background; the SQLite backup API on SQLite):
``integration.databases``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, NoReturn

import pytest
from outage import Outage, outage_for
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from integration.databases import Databases
from integration.support import FLOW_PATH, OPEN, OPEN_UTC, Db, StoppedClock
from ivr.app import cli_call, cli_db, cli_serve
from ivr.app.bootstrap import Components, bootstrap
from ivr.app.config import Settings
from ivr.services import ports
from ivr.store import schema
from ivr.store.db import connect, redact, without_gss
from ivr.store.seed import seed_demo

POSTGRES_URL_ENV = "IVR_TEST_POSTGRES_URL"
ALL_BACKENDS = ("sqlite", "postgresql")
#: ``IVR_TEST_BACKENDS`` (comma-separated) narrows a run to some backends: ``make test-dates``
#: runs the suite again years ahead on SQLite alone (the dates are the product's, not the
#: database's; PostgreSQL's run at the chosen date covers its own time handling).
BACKENDS = tuple(
    name.strip()
    for name in os.environ.get("IVR_TEST_BACKENDS", ",".join(ALL_BACKENDS)).split(",")
    if name.strip()
)
if not BACKENDS or set(BACKENDS) - set(ALL_BACKENDS):
    raise pytest.UsageError(f"IVR_TEST_BACKENDS must name some of {', '.join(ALL_BACKENDS)}")


def _unavailable(reason: str) -> NoReturn:
    """Skip, or fail in CI: there a missing PostgreSQL is a broken run, not a skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: PostgreSQL is required)", pytrace=False)
    pytest.skip(reason)


def _first_line(exc: BaseException) -> str:
    reason = getattr(exc, "orig", None) or exc
    lines = str(reason).strip().splitlines()
    return lines[0] if lines else type(reason).__name__


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An AUTOCOMMIT connection to ``$IVR_TEST_POSTGRES_URL``'s database, for CREATE and
    DROP DATABASE; skips (fails in CI) when there is no usable server."""
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not url:
        _unavailable(f"PostgreSQL tests need {POSTGRES_URL_ENV} (a postgresql+psycopg:// URL)")
    try:
        if make_url(url).get_backend_name() != "postgresql":
            _unavailable(f"{POSTGRES_URL_ENV} is not a PostgreSQL URL: {redact(url)}")
        engine = create_engine(
            url,
            isolation_level="AUTOCOMMIT",
            poolclass=NullPool,
            connect_args={"connect_timeout": 5, **without_gss(make_url(url))},
        )
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        _unavailable(f"PostgreSQL at {redact(url)} is unreachable: {_first_line(exc)}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def databases() -> Iterator[dict[str, Databases]]:
    """Each backend's databases in this process, by name; all dropped at the end."""
    made: dict[str, Databases] = {}
    yield made
    for backend in made.values():
        backend.drop_all()


@pytest.fixture(scope="module", params=BACKENDS, ids=BACKENDS)
def backend(
    request: pytest.FixtureRequest,
    databases: dict[str, Databases],
    tmp_path_factory: pytest.TempPathFactory,
) -> Databases:
    """The backend under test. Module-scoped, so a module runs all its SQLite tests, then
    all its PostgreSQL tests."""
    name: str = request.param
    if name not in databases:
        folder = tmp_path_factory.mktemp(f"ivr-{name}")
        admin = request.getfixturevalue("postgres_admin") if name == "postgresql" else None
        databases[name] = Databases(name, folder, admin)
    return databases[name]


@pytest.fixture
def database_url(backend: Databases) -> Iterator[str]:
    """A fresh, empty database of its own for this test."""
    url = backend.create()
    yield url
    backend.drop(url)


def hotline_settings(url: str) -> Settings:
    """The settings ``make_hotline`` builds on: the real flow (its secret key and pepper
    files beside it, under var/)."""
    return Settings(flow_path=FLOW_PATH, database_url=url, log_level="WARNING")


def upgrade(url: str) -> None:
    engine = connect(url)
    try:
        schema.upgrade(engine)
    finally:
        engine.dispose()


def seed(url: str, reset: bool = False) -> None:
    engine = connect(url)
    try:
        seed_demo(
            sessionmaker(engine), OPEN_UTC, pepper=hotline_settings(url).pepper(), reset=reset
        )
    finally:
        engine.dispose()


@pytest.fixture
def upgraded_url(database_url: str) -> str:
    """A fresh database with the schema at head and no rows."""
    upgrade(database_url)
    return database_url


@pytest.fixture(scope="module")
def seeded_template(backend: Databases) -> str:
    """Upgraded and seeded once per process and backend; never used directly (PostgreSQL
    copies a template only while nobody is connected to it)."""
    return backend.seeded_template(_upgrade_and_seed)


def _upgrade_and_seed(url: str) -> None:
    upgrade(url)
    seed(url)


@pytest.fixture
def seeded_url(backend: Databases, seeded_template: str) -> Iterator[str]:
    """A fresh database of its own for this test: schema at head, demo accounts seeded."""
    url = backend.create(copy_of=seeded_template)
    yield url
    backend.drop(url)


@pytest.fixture
def db(seeded_url: str) -> Iterator[Db]:
    """Plain SQL on this test's seeded database."""
    window = Db(seeded_url)
    yield window
    window.close()


@pytest.fixture
def clock() -> StoppedClock:
    return StoppedClock()


@pytest.fixture
def make_hotline(clock: StoppedClock) -> Iterator[Callable[..., Components]]:
    """``make_hotline(url, clock=None, busy_timeout=None, role="ivr")``: the product's
    composition root on that database, on ``clock`` (None: the test's ``clock``), as a
    process of ``role`` (``fastagi``: its calls on an event loop, on PostgreSQL); its
    connections are closed after the test."""
    made: list[Components] = []
    tests_clock = clock

    def build(
        url: str,
        clock: ports.Clock | None = None,
        busy_timeout: int | None = None,
        role: str = "ivr",
    ) -> Components:
        settings = hotline_settings(url)
        if busy_timeout is not None:  # an outage test: SQLite's lock is waited for that long
            settings = replace(settings, db_busy_timeout=busy_timeout)
        hotline = bootstrap(settings, clock=clock or tests_clock, role=role)
        made.append(hotline)
        return hotline

    yield build
    for hotline in made:
        _close(hotline)


@pytest.fixture
def hotline(
    make_hotline: Callable[..., Components], seeded_url: str, clock: StoppedClock
) -> Components:
    """The hotline's components on this test's seeded database, with a stopped clock."""
    return make_hotline(seeded_url, clock)


def _close(hotline: Components) -> None:
    database = hotline.__dict__.get("database")
    if database is not None:
        database.dispose()


@pytest.fixture
def ivr_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Components]]:
    """The environment ``ivr`` reads: the real flow whatever the working directory, and
    the clock starting at the suite's OPEN (``--at`` moves it). Yields the Hotlines the
    command builds (their connections are closed afterwards, so PostgreSQL is not left
    with a pool per call)."""
    monkeypatch.setenv("IVR_FLOW", str(FLOW_PATH))
    monkeypatch.setenv("IVR_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("IVR_CLOCK_START", OPEN)
    monkeypatch.delenv("IVR_DATABASE_URL", raising=False)
    built: list[Components] = []
    real = bootstrap

    def recording(*args: Any, **kwargs: Any) -> Components:
        hotline = real(*args, **kwargs)
        built.append(hotline)
        return hotline

    for command in (cli_call, cli_db, cli_serve):  # the commands that build one
        monkeypatch.setattr(command, "bootstrap", recording)
    yield built
    for hotline in built:
        _close(hotline)


@pytest.fixture
def seeded_env(ivr_env: list[Components], seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``IVR_DATABASE_URL`` points at this test's upgraded and seeded database."""
    monkeypatch.setenv("IVR_DATABASE_URL", seeded_url)
    return seeded_url


@pytest.fixture
def outage(seeded_url: str) -> Iterator[Outage]:
    """This test's seeded database behind a switch (``tests/outage.py``): the product
    uses ``outage.url``, the test reads ``outage.direct``; ``outage.cut()`` and
    ``outage.restore()`` take the database away from the product and give it back."""
    handle = outage_for(seeded_url)
    yield handle
    handle.close()
