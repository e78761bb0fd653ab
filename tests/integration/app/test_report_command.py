"""``ivr report`` and ``ivr graph --stats`` on a real database (both backends), showing a
hand-built report (``tests/report_sample.py``) in place of the SQL's: the tables, the JSON,
the CSV files, the annotated call tree; and the refusals: bad dates and zones, a database
with no tables, a database that is away."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from report_sample import HOSTILE, sample_report

from integration.support import FLOW_PATH, OPEN_UTC
from ivr.app import cli_period
from ivr.app.bootstrap import Components, load_hotline
from ivr.app.cli import main
from ivr.flow.model import Flow
from ivr.services import periods, reports
from ivr.services.insight import Period, Report

TZ = load_hotline(FLOW_PATH).timezone


@pytest.fixture
def asked(ivr_env: list[Components], monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Period]]:
    """The periods ``build_report`` was asked for; it answers with the sample report. The
    hotlines the command builds are closed after the test."""
    periods_asked: list[Period] = []
    built: list[Components] = []
    real = cli_period.bootstrap

    def fake_report(
        unit_of_work: Callable[..., Any], flow: Flow, period: Period, now: datetime | None = None
    ) -> Report:
        assert now is not None  # the open and overdue complaints are the clock's now
        assert flow.start == "choose_language"
        periods_asked.append(period)
        return sample_report(period)

    def recording(*args: Any, **kwargs: Any) -> Components:
        built.append(real(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(reports, "build_report", fake_report)
    monkeypatch.setattr(cli_period, "bootstrap", recording)
    yield periods_asked
    for hotline in built:
        database = hotline.__dict__.get("database")
        if database is not None:
            database.dispose()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_report_shows_todays_figures_as_tables(
    seeded_env: str, asked: list[Period], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "report")
    assert (code, err) == (0, "")
    assert asked == [periods.today(OPEN_UTC, TZ)]
    assert out.startswith(f"Hotline report: {periods.describe(asked[0])}\n")
    for row in (
        ("calls (ended)", "120"),
        ("in progress (not counted)", "3"),
        ("contained (no person)", "53 (44.2%)"),  # 22 + 31 of the 120 calls
        ("service level", "60.0%"),
    ):
        assert _row_with(out, *row), row
    assert _row_with(out, "main_menu", "menu", "112", "25", "22.3%", "9", "7", "3")
    assert _row_with(out, "payments_agent", "queue", "30", "8", "26.7%", "0", "0", "30")
    assert _row_with(out, "payment_failure", "40", "22", "55.0%", "18", "5", "35", "4", "1")
    assert _row_with(out, "(none chosen)", "31", "31", "100.0%")
    assert _row_with(out, HOSTILE, "1", "0", "0.0%")  # shown as it is, not read as markup
    assert _row_with(out, "payment_failure", "payment_followup", "chose", "15")
    assert _row_with(
        out, "payments", "30", "24", "6", "41.5 s", "60.0%", "20 s", "14.2 s", "312.0 s", "4"
    )
    assert _row_with(out, "security", "0", "0", "0", "—", "—", "10 s", "—", "—")
    assert _row_with(out, "09:00", "70", "20", "12")
    assert _row_with(out, "all", "44", "4.20", "5")
    assert _row_with(out, "overdue", "2")
    assert "security_intro" not in out  # no call entered it: said under the table
    assert "nodes no call entered, not shown: 1 (--json and --csv list them)" in out


def _row_with(out: str, *cells: str) -> bool:
    """A line of the tables with these cells, in this order."""
    for line in out.splitlines():
        found = [c.strip() for c in line.split("│")]
        found = [c for c in found if c]
        if found[: len(cells)] == list(cells):
            return True
    return False


def test_a_range_in_a_zone_is_asked_for_and_shown_by_hour_of_the_day(
    seeded_env: str, asked: list[Period], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("report", "--from", "2026-11-01", "--to", "2026-11-30", "--tz", "Europe/Paris")
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert asked == [periods.days(date(2026, 11, 1), date(2026, 11, 30), "Europe/Paris")]
    assert out.startswith("Hotline report: 2026-11-01 to 2026-11-30 (Europe/Paris)\n")
    assert "Calls per hour of the day (all days)" in out
    assert "hour (Europe/Paris)" in out


def test_json_is_the_reports_own(
    seeded_env: str, asked: list[Period], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "report", "--json")
    assert code == 0
    data = json.loads(out)
    assert data == json.loads(json.dumps(sample_report(asked[0]).to_json()))
    assert data["queues"][0]["service_level"] == 0.6
    assert data["nodes"][2] | {"drop_rate": None} == {
        "node": "main_menu", "kind": "menu", "entered": 112, "hung_up": 25, "timed_out": 9,
        "invalid": 7, "to_person": 3, "drop_rate": None,
    }  # fmt: skip
    assert data["period"]["tz"] == TZ


def test_csv_writes_one_flat_table_per_section(
    seeded_env: str, asked: list[Period], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    code, out, _ = run(capsys, "report", "--csv", str(folder))
    assert code == 0
    names = ("summary", "nodes", "branches", "transfers", "queues", "hours", "surveys")
    for name in (*names, "complaints"):
        assert f"wrote {folder / name}.csv" in out

    def table(name: str) -> list[dict[str, str]]:
        with (folder / f"{name}.csv").open(newline="", encoding="utf-8") as file:
            return list(csv.DictReader(file))

    summary = {row["figure"]: row["value"] for row in table("summary")}
    assert (summary["calls"], summary["tz"], summary["service_level"]) == ("120", TZ, "0.6")
    nodes = table("nodes")
    assert [n["node"] for n in nodes][:3] == ["choose_language", "welcome", "main_menu"]
    assert nodes[5]["drop_rate"].startswith("0.2666")
    assert nodes[-1] == {
        "node": "security_intro", "kind": "say", "entered": "0", "hung_up": "0",
        "drop_rate": "", "timed_out": "0", "invalid": "0", "to_person": "0",
    }  # fmt: skip
    queues = {q["queue"]: q for q in table("queues")}
    assert queues["payments"]["speed_of_answer"] == "14.25"
    assert queues["security"]["service_level"] == ""  # no callers: no figure
    assert [b["reason"] for b in table("branches")] == ["payment_failure", "", HOSTILE]
    hours = table("hours")
    assert [h["calls"] for h in hours] == ["70", "50"]
    assert hours[0]["hour"] == sample_report(asked[0]).hours[0].hour.isoformat()
    assert {row["figure"]: row["count"] for row in table("complaints")}["open"] == "5"


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (("--from", "2026-02-30"), "ivr report: from: '2026-02-30' is not a date (YYYY-MM-DD)"),
        (("--tz", "Mars/Base"), "ivr report: unknown time zone 'Mars/Base'"),
        (("--from", "2026-11-30", "--to", "2026-11-01"), "starts (2026-11-30) after it ends"),
    ],
)
def test_a_bad_period_is_refused_clearly(
    seeded_env: str,
    asked: list[Period],
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    said: str,
) -> None:
    code, out, err = run(capsys, "report", *argv)
    assert (code, out, asked) == (1, "", [])
    assert said in err and "Traceback" not in err


def test_a_database_without_tables_says_to_upgrade_it(
    ivr_env: list[Components],
    asked: list[Period],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("IVR_DATABASE_URL", database_url)
    code, out, err = run(capsys, "report")
    assert (code, out, asked) == (1, "", [])
    assert "has no hotline tables yet" in err and "run `ivr db upgrade`" in err


def test_a_database_that_is_away_is_an_error_not_a_traceback(
    ivr_env: list[Components],
    asked: list[Period],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("IVR_DATABASE_URL", "postgresql+psycopg://ivr@127.0.0.1:1/ivr")
    for argv in (("report",), ("graph", "--stats")):
        code, out, err = run(capsys, *argv)
        assert (code, out, asked) == (1, "", [])
        assert err.startswith(f"ivr {argv[0]}: database postgresql+psycopg://ivr@127.0.0.1:1/ivr")
        assert "refused" in err.lower() and "Traceback" not in err


def test_graph_stats_draws_each_nodes_traffic(
    seeded_env: str, asked: list[Period], capsys: pytest.CaptureFixture[str]
) -> None:
    today = periods.local_today(OPEN_UTC, TZ)
    first = today - timedelta(days=3)
    code, out, err = run(capsys, "graph", "--stats", "--format", "dot", "--from", str(first))
    assert code == 0
    assert asked == [periods.days(first, today, TZ)]
    assert f"calls from {first} to {today} ({TZ})" in err
    assert (
        '"main_menu" [label="main_menu\\n(menu)\\n112 in, 25 hung up (22.3%), 3 to a person"' in out
    )
    assert 'fillcolor="#f4b6ae"' in out
    code, out, _ = run(capsys, "graph", "--stats")
    assert "welcome<br/><i>say</i><br/>114 in, 2 hung up (1.8%)" in out
    code, out, err = run(capsys, "graph", "--from", str(first))
    assert (code, out, len(asked)) == (2, "", 2)
    assert "--from, --to and --tz choose the days of --stats" in err


def test_graph_svg_is_drawn_by_graphviz_or_names_the_package(
    seeded_env: str,
    asked: list[Period],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if shutil.which("dot") is not None:
        code, out, _ = run(capsys, "graph", "--stats", "--format", "svg")
        assert code == 0 and out.startswith("<svg ")
        assert "112 in, 25 hung up (22.3%), 3 to a person" in out
    monkeypatch.setenv("PATH", "")
    code, out, err = run(capsys, "graph", "--format", "svg")
    assert (code, out) == (1, "")
    assert "install the Debian package graphviz" in err
