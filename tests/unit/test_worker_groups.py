"""The groups ``make test`` hands whole to pytest-xdist workers (tests/worker_groups.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from worker_groups import LONGEST, GroupScheduling, group_of, rank


def test_the_end_to_end_calls_are_one_group_and_the_browser_tests_another() -> None:
    assert group_of("tests/e2e/test_agents.py::test_a_caller_waits") == "e2e"
    assert group_of("tests/e2e/test_hotline_calls.py::test_english_then_agent") == "e2e"
    # the branches' and the complaint's calls: a second sandbox, beside the first
    assert group_of("tests/e2e/test_branches.py::test_password_reset_texts_a") == "e2e:calls"
    assert group_of("tests/e2e/test_complaint_call.py::test_a_complaint") == "e2e:calls"
    crash = "tests/e2e/test_crash.py::test_killing_the_controller_strands_nobody"
    assert group_of(crash) == "e2e:tests/e2e/test_crash.py"  # its own sandbox
    assert group_of("tests/e2e/test_console_browser.py::test_an_agent_takes_a_call") == "browser"
    survey = "tests/e2e/test_survey_call.py::test_a_caller_scores_the_call_after_self_service"
    assert group_of(survey) == "e2e:tests/e2e/test_survey_call.py"  # its own sandbox
    kit = "tests/e2e/test_asterisk_kit.py::test_the_hotline_context_is_loaded"
    assert group_of(kit) == "e2e:tests/e2e/test_asterisk_kit.py"  # its own Asterisk
    shift = "tests/e2e/test_console_shift.py::test_an_agents_shift_in_the_browser"
    assert group_of(shift) == "e2e:tests/e2e/test_console_shift.py"  # its own ivr serve
    assert group_of("tests/e2e/test_reports_browser.py::test_a_supervisor_reads") == "browser"


def test_an_integration_module_is_one_group_per_backend() -> None:
    module = "tests/integration/test_agi_driver.py"
    assert group_of(f"{module}::test_password_reset_over_agi[sqlite]") == f"{module}:sqlite"
    assert group_of(f"{module}::test_hang_up[eof-postgresql]") == f"{module}:postgresql"
    assert group_of(f"{module}::test_input[sqlite-no-blank-line]") == f"{module}:sqlite"


def test_any_other_module_is_one_group() -> None:
    assert group_of("tests/unit/test_tokens.py::test_well_formed") == "tests/unit/test_tokens.py"
    assert group_of("tests/unit/test_engine.py::test_x[en-1]") == "tests/unit/test_engine.py"


def test_the_end_to_end_groups_go_out_first_and_the_rest_in_collection_order() -> None:
    assert [rank(group) for group in LONGEST] == list(range(len(LONGEST)))
    assert rank("e2e") == 0
    assert rank("tests/unit/test_tokens.py") == rank("tests/x.py:sqlite") == len(LONGEST)


class _Worker:
    """Stands in for pytest-xdist's WorkerController: records what it is sent."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.sent: list[int] = []
        self.shutting_down = False

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent += indexes

    def shutdown(self) -> None:
        self.shutting_down = True


def test_each_worker_starts_with_the_longest_group_left(
    pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pytestconfig.option, "tx", ["4*popen"], raising=False)
    monkeypatch.setattr(pytestconfig.option, "loadscopereorder", True, raising=False)
    collection = [
        "tests/e2e/test_agents.py::test_a",
        "tests/e2e/test_branches.py::test_b",
        "tests/e2e/test_survey_call.py::test_c",
        "tests/integration/x.py::test_d[sqlite]",
        "tests/unit/y.py::test_e",
    ]
    scheduler = GroupScheduling(pytestconfig)
    workers = [_Worker(f"gw{n}") for n in range(4)]
    for worker in workers:
        scheduler.add_node(worker)  # type: ignore[arg-type]
        scheduler.add_node_collection(worker, collection)  # type: ignore[arg-type]
    scheduler.schedule()

    firsts = [collection[worker.sent[0]] for worker in workers]
    assert firsts == [collection[0], collection[2], collection[1], collection[3]]


def test_a_test_that_kills_its_worker_is_not_run_again(
    pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test a worker died in is its crash (reported failed); the rest of its group goes
    to the worker started in its place, and the run ends (it hung at 98%: the group went
    back whole, and the test killed each new worker in turn)."""
    monkeypatch.setattr(pytestconfig.option, "tx", ["2*popen"], raising=False)
    collection = [
        "tests/unit/a.py::test_slow",
        "tests/unit/a.py::test_kills_its_worker",
        "tests/unit/a.py::test_after",
        "tests/unit/b.py::test_other",
    ]
    scheduler = GroupScheduling(pytestconfig)
    first, second = _Worker("gw0"), _Worker("gw1")
    for worker in (first, second):
        scheduler.add_node(worker)  # type: ignore[arg-type]
        scheduler.add_node_collection(worker, collection)  # type: ignore[arg-type]
    scheduler.schedule()
    assert [collection[i] for i in first.sent] == collection[:3]
    scheduler.mark_test_complete(first, 0)  # type: ignore[arg-type]
    scheduler.mark_test_complete(second, 3)  # type: ignore[arg-type]

    crashed = scheduler.remove_node(first)  # type: ignore[arg-type]
    assert crashed == "tests/unit/a.py::test_kills_its_worker"
    assert not scheduler.tests_finished

    started = _Worker("gw2")  # pytest-xdist starts one in the dead worker's place
    scheduler.add_node(started)  # type: ignore[arg-type]
    scheduler.add_node_collection(started, collection)  # type: ignore[arg-type]
    scheduler.schedule()
    assert [collection[i] for i in started.sent] == ["tests/unit/a.py::test_after"]
    scheduler.mark_test_complete(started, 2)  # type: ignore[arg-type]
    assert scheduler.tests_finished
