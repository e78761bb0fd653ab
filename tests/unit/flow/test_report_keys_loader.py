"""The flow language's keys for the reports: a queue's ``service_level`` and the
hotline's ``timezone``: their defaults, the real hotline's values, and each mistake
reported at FILE:LINE:COL. Uses the small flow of ``test_loader``."""

from __future__ import annotations

from pathlib import Path

from test_loader import REAL_FLOW, write_flow

from ivr.app.bootstrap import load_hotline
from ivr.flow import model
from ivr.services import insight

QUEUE = "  general: {priority: 1, skill: general}\n"
HEADER = "prompts: prompts/prompts.yaml\n"


def test_without_the_keys_the_zone_is_utc_and_the_target_twenty_seconds(tmp_path: Path) -> None:
    flow = write_flow(tmp_path).load()
    assert flow.timezone == "UTC"
    assert flow.queues["general"].service_level == model.DEFAULT_SERVICE_LEVEL
    assert model.DEFAULT_SERVICE_LEVEL == insight.DEFAULT_SERVICE_LEVEL_SECONDS


def test_the_keys_are_read(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path,
        patch=[
            (HEADER, HEADER + "timezone: Asia/Kolkata\n"),
            (QUEUE, "  general: {priority: 1, skill: general, service_level: 45s}\n"),
        ],
    )
    flow = files.load()
    assert (flow.timezone, flow.queues["general"].service_level) == ("Asia/Kolkata", 45.0)


def test_the_real_hotline_is_in_beijing() -> None:
    assert load_hotline(REAL_FLOW).timezone == "Asia/Shanghai"


def test_an_unknown_zone_is_reported_at_its_value(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[(HEADER, HEADER + "timezone: Asia/Atlantis\n")])
    problem = files.problem()
    assert problem.position == files.at("Asia/Atlantis")
    assert "unknown time zone 'Asia/Atlantis'" in problem.message


def test_a_service_level_out_of_range_is_reported(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path, patch=[(QUEUE, "  general: {priority: 1, skill: general, service_level: 0s}\n")]
    )
    problem = files.problem()
    assert problem.position == files.at("0s")
    assert "service_level must be from 1s to 3600s" in problem.message


def test_a_service_level_on_a_queue_node_is_not_a_key(tmp_path: Path) -> None:
    agent = "  agent:\n    type: queue\n    queue: general\n"
    files = write_flow(tmp_path, patch=[(agent, agent + "    service_level: 30s\n")])
    assert "service_level" in files.problem().message
