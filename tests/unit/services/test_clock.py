"""One clock per process: ``RunningClock`` starts at a chosen instant and moves with real
time, ``IVR_CLOCK_START`` starts the hotline's clock there, and no module of ``ivr`` but
``ivr/services/clock.py`` reads the wall clock (an AST walk over the package)."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from start_date import OPEN, OPEN_TIME

from ivr.app import cli
from ivr.app.bootstrap import bootstrap
from ivr.app.config import Settings
from ivr.errors import IvrError
from ivr.services.clock import RunningClock, SystemClock, clock_from

PACKAGE = Path(__file__).resolve().parents[3] / "ivr"
CLOCK_MODULE = PACKAGE / "services" / "clock.py"

#: Calls that read the wall clock, by what the called name is imported as; the number is
#: how many arguments make it a conversion instead (None: a read whatever the arguments).
WALL_CLOCK: dict[str, int | None] = {
    "datetime.datetime.now": None,
    "datetime.datetime.utcnow": None,
    "datetime.datetime.today": None,
    "datetime.date.today": None,
    "time.time": None,
    "time.time_ns": None,
    "time.localtime": 1,
    "time.gmtime": 1,
    "time.ctime": 1,
    "time.asctime": 1,
    "time.strftime": 2,
    "sqlalchemy.func.now": None,
    "sqlalchemy.func.current_timestamp": None,
    "sqlalchemy.func.current_date": None,
    "sqlalchemy.func.localtimestamp": None,
    "sqlalchemy.sql.func.now": None,
}


def wall_clock_reads(source: str, filename: str = "<test>") -> list[str]:
    """``file:line name`` for each wall-clock read in ``source``."""
    tree = ast.parse(source, filename)
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for name in node.names:
                aliases[name.asname or name.name.split(".")[0]] = (
                    name.name if name.asname else name.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module:
            for name in node.names:
                aliases[name.asname or name.name] = f"{node.module}.{name.name}"
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _qualified(node.func, aliases)
        if name in WALL_CLOCK:
            conversion = WALL_CLOCK[name]
            if conversion is None or len(node.args) + len(node.keywords) < conversion:
                found.append(f"{filename}:{node.lineno} {name}")
    return found


def _qualified(func: ast.expr, aliases: dict[str, str]) -> str | None:
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return None
    return ".".join([aliases.get(func.id, func.id), *reversed(parts)])


def test_no_module_but_the_clock_reads_the_wall_clock() -> None:
    reads = [
        read
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != CLOCK_MODULE
        for read in wall_clock_reads(path.read_text(encoding="utf-8"), str(path))
    ]
    assert reads == []


def test_the_clock_module_is_where_the_wall_clock_is_read() -> None:
    reads = wall_clock_reads(CLOCK_MODULE.read_text(encoding="utf-8"))
    assert [read.split()[1] for read in reads] == ["datetime.datetime.now"]


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime, UTC\nx = datetime.now(UTC)",
        "import datetime\nx = datetime.datetime.utcnow()",
        "import datetime as dt\nx = dt.date.today()",
        "from datetime import date as D\nx = D.today()",
        "import time\nx = time.time()",
        "from time import time as now\nx = now()",
        "import time\nx = time.strftime('%H')",
        "import time\nx = time.localtime()",
        "from sqlalchemy import func\nx = func.now()",
        "import sqlalchemy as sa\nx = sa.func.current_timestamp()",
    ],
)
def test_the_check_finds_each_way_of_reading_the_wall_clock(source: str) -> None:
    assert len(wall_clock_reads(source)) == 1


@pytest.mark.parametrize(
    "source",
    [
        "import time\nx = time.monotonic()",  # durations are fine
        "import time\nx = time.localtime(0)",
        "import time\nx = time.strftime('%H', time.gmtime(0))",
        "from datetime import datetime, UTC\nx = datetime.fromtimestamp(0, UTC)",
        "x = clock.now()",
    ],
)
def test_the_check_lets_conversions_and_the_clock_port_pass(source: str) -> None:
    assert wall_clock_reads(source) == []


# -- the clocks -------------------------------------------------------------------------------


class Elapsed:
    """A monotonic counter a test moves."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


def test_a_running_clock_starts_at_its_instant_and_moves_with_elapsed_time() -> None:
    elapsed = Elapsed()
    clock = RunningClock(OPEN_TIME, elapsed)

    assert clock.now() == OPEN_TIME and clock.now().utcoffset() == timedelta(0)
    elapsed.seconds += 90.5
    assert clock.now() == OPEN_TIME + timedelta(seconds=90.5)


def test_a_running_clock_needs_a_time_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        RunningClock(datetime(2030, 1, 1))  # noqa: DTZ001 - the naive time is the point


def test_without_a_start_the_clock_is_the_system_clock() -> None:
    assert isinstance(clock_from(None), SystemClock)
    assert isinstance(clock_from(OPEN_TIME), RunningClock)


# -- IVR_CLOCK_START --------------------------------------------------------------------------


def test_ivr_clock_start_is_read_with_its_offset() -> None:
    settings = Settings.from_env({"IVR_CLOCK_START": OPEN})

    assert settings.clock_start == OPEN_TIME
    assert settings.clock_start is not None
    assert settings.clock_start.utcoffset() == ZoneInfo("Asia/Shanghai").utcoffset(OPEN_TIME)
    assert Settings.from_env({}).clock_start is None
    assert Settings.from_env({"IVR_CLOCK_START": "2030-01-01T00:00Z"}).clock_start == datetime(
        2030, 1, 1, tzinfo=UTC
    )


@pytest.mark.parametrize("value", ["tomorrow", "2030-13-01T10:00+08:00", "2030-01-01T10:00"])
def test_a_bad_ivr_clock_start_is_one_clear_error(value: str) -> None:
    with pytest.raises(IvrError) as raised:
        Settings.from_env({"IVR_CLOCK_START": value})

    message = str(raised.value)
    assert message.startswith("IVR_CLOCK_START must be an ISO 8601 time with a UTC offset")
    assert repr(value) in message and "\n" not in message


def test_the_hotline_runs_on_the_clock_its_settings_start() -> None:
    settings = Settings(Path("callflows.yaml"), "sqlite://", "WARNING", clock_start=OPEN_TIME)

    clock = bootstrap(settings).clock

    assert OPEN_TIME <= clock.now() < OPEN_TIME + timedelta(seconds=30)


def test_ivr_says_which_setting_is_wrong_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IVR_CLOCK_START", "tomorrow")

    assert cli.main(["validate", str(PACKAGE.parent / "callflows.yaml")]) == 2

    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("ivr validate: IVR_CLOCK_START must be an ISO 8601 time")
