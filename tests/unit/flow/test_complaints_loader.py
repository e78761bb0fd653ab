"""The ``complaints:`` section: the handling standard read from the flow file, each bad
value one problem at its place, and a node's ``complaint_category`` held to the listed
categories."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_loader import REAL_FLOW, write_flow

from ivr.app.bootstrap import load_hotline
from ivr.flow.complaints import ComplaintStandard
from ivr.flow.durations import parse_duration

NODES = "nodes:\n"
FROZEN = "    prompt: account_frozen\n"


def section(lines: str) -> list[tuple[str, str]]:
    return [(NODES, f"complaints:\n{lines}\n{NODES}")]


def test_the_real_hotline_has_a_24_hour_and_7_day_standard_in_beijing_time() -> None:
    standard = load_hotline(REAL_FLOW).complaints
    assert standard == ComplaintStandard(
        acknowledge_within=24 * 3600,
        resolve_within=7 * 86400,
        categories=("payment", "fees", "service", "security", "other"),
        timezone="Asia/Shanghai",
    )


def test_a_flow_without_the_section_gets_the_default_standard(tmp_path: Path) -> None:
    assert write_flow(tmp_path).load().complaints == ComplaintStandard()


def test_the_section_is_read(tmp_path: Path) -> None:
    lines = (
        "  acknowledge_within: 2h\n  resolve_within: 3d12h\n"
        "  categories: [billing, other]\n  timezone: Europe/London"
    )
    flow = write_flow(tmp_path, patch=section(lines)).load()
    assert flow.complaints == ComplaintStandard(
        2 * 3600, 3.5 * 86400, ("billing", "other"), "Europe/London"
    )


def test_days_are_a_duration() -> None:
    assert parse_duration("7d") == 7 * 86400
    assert parse_duration("1d12h") == 36 * 3600


@pytest.mark.parametrize(
    ("lines", "needle", "message"),
    [
        (
            "  acknowledge_within: soon",
            "soon",
            "'acknowledge_within' in complaints: bad duration 'soon': "
            "write it like 500ms, 5s, 2m or 1m30s",
        ),
        ("  resolve_within: 10m", "10m", "complaints: resolve_within must be at least 1h"),
        (
            "  acknowledge_within: 3d\n  resolve_within: 2d",
            "2d",
            "complaints: resolve_within must not be shorter than acknowledge_within",
        ),
        (
            "  categories: [payment, Fees]",
            "Fees",
            "complaints: category 'Fees' must be a lower-case name",
        ),
        ("  categories: [fees, fees]", "fees]", "complaints: category 'fees' is listed twice"),
        ("  timezone: Mars/Olympus", "Mars", "complaints: unknown time zone 'Mars/Olympus'"),
        (
            "  resolve_in: 7d",
            "resolve_in",
            "unknown key 'resolve_in' in complaints (did you mean 'resolve_within'?)",
        ),
    ],
    ids=[
        "bad-duration",
        "too-short",
        "resolve-before-acknowledge",
        "bad-name",
        "twice",
        "zone",
        "typo",
    ],
)
def test_a_bad_standard_is_one_problem_at_its_value(
    tmp_path: Path, lines: str, needle: str, message: str
) -> None:
    files = write_flow(tmp_path, patch=section(lines))
    problem = files.problem()
    where = files.at(lines, plus=lines.rindex(needle))
    assert (problem.position, problem.message) == (where, message)


def test_a_node_setting_an_unknown_category_is_refused_at_the_value(tmp_path: Path) -> None:
    patch = [(FROZEN, FROZEN + "    set: {complaint_category: fee}\n")]
    files = write_flow(tmp_path, patch=patch)
    problem = files.problem()
    assert problem.position == files.at("fee}")
    assert problem.message == (
        "node 'frozen': complaint_category 'fee' is not one of the complaints' categories"
        " (payment, fees, service, security, other) (did you mean 'fees'?)"
    )


def test_a_category_is_checked_against_the_flows_own_list(tmp_path: Path) -> None:
    patch = [
        *section("  categories: [billing]"),
        (FROZEN, FROZEN + "    set: {complaint_category: payment}\n"),
    ]
    problem = write_flow(tmp_path, patch=patch).problem()
    assert "complaint_category 'payment' is not one of the complaints' categories (billing)" in (
        problem.message
    )


def test_the_standard_keeps_the_hotlines_time_zone_unless_it_names_its_own(
    tmp_path: Path,
) -> None:
    hotline = [(NODES, f"timezone: Asia/Kolkata\n{NODES}")]
    for name in ("bare", "inherited", "own"):
        (tmp_path / name).mkdir()
    bare = write_flow(tmp_path / "bare", patch=hotline).load()
    assert bare.complaints == ComplaintStandard(timezone="Asia/Kolkata")
    lines = "  acknowledge_within: 2h"
    inherited = write_flow(tmp_path / "inherited", patch=[*hotline, *section(lines)]).load()
    assert inherited.complaints.timezone == "Asia/Kolkata"
    own = write_flow(
        tmp_path / "own", patch=[*hotline, *section(f"{lines}\n  timezone: Europe/London")]
    ).load()
    assert own.complaints.timezone == "Europe/London" and own.timezone == "Asia/Kolkata"
