"""Large flows: a mistake deep in one is still reported at its own line and column, a long
chain is checked in one pass, and the garbage collector, held off while a flow loads, runs
again afterwards whatever happened."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import pytest

from ivr.errors import FlowErrors
from ivr.flow.collector import collector_paused
from ivr.flow.loader import load_flow
from ivr.services.registry import HOTLINE_ACTIONS

CATALOG = 'menu: {en: "Press 1.", zh: "请按1。"}\nbye: {en: "Bye.", zh: "再见。"}\n'

BLOCK = """\
  m{i}:
    type: menu
    prompt: menu
    choices:
      1: s{i}
      9: {forward}
    on_failure: h{i}

  s{i}:
    type: say
    prompt: menu
    next: h{i}

  h{i}:
    type: hangup
    prompt: bye

"""


def big_flow(folder: Path, blocks: int) -> tuple[Path, str]:
    """A valid flow of ``3 * blocks`` nodes, each block's menu leading to the next one's."""
    parts = ["version: 1\nstart: m0\nlanguages: [en, zh]\nprompts: prompts.yaml\nnodes:\n"]
    for i in range(blocks):
        forward = f"m{i + 1}" if i + 1 < blocks else "repeat"
        parts.append(BLOCK.format(i=i, forward=forward))
    (folder / "prompts.yaml").write_text(CATALOG, encoding="utf-8")
    return folder / "callflows.yaml", "".join(parts)


def where(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the one occurrence of ``needle`` in ``text``."""
    assert text.count(needle) == 1, needle
    index = text.index(needle)
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


def test_a_big_generated_flow_loads(tmp_path: Path) -> None:
    flow, text = big_flow(tmp_path, 700)
    flow.write_text(text, encoding="utf-8")
    assert len(load_flow(flow, HOTLINE_ACTIONS).nodes) == 2100


def test_mistakes_deep_in_a_big_flow_are_reported_at_their_own_line_and_column(
    tmp_path: Path,
) -> None:
    flow, text = big_flow(tmp_path, 700)
    text = text.replace("    next: h650\n", "    next: hh650\n")  # a dangling target
    text = text.replace("  s683:\n    type: say\n", "  s683:\n    type: say\n    colour: red\n")
    flow.write_text(text, encoding="utf-8")

    with pytest.raises(FlowErrors) as caught:
        load_flow(flow, HOTLINE_ACTIONS)

    dangling, unknown = (str(p) for p in caught.value.problems)
    line, column = where(text, "hh650")
    assert dangling == (
        f"{flow}:{line}:{column}: node 's650': next goes to 'hh650', which is not a node "
        "(did you mean 'h650'?)"
    )
    line, column = where(text, "colour")
    assert unknown == f"{flow}:{line}:{column}: unknown key 'colour' in say node 's683'"


def test_a_long_chain_that_ends_only_at_its_far_end_loads(tmp_path: Path) -> None:
    """Every node can end the call only through the 3,000 after it (the check of endings
    once went round the whole flow once per node of such a chain)."""
    lines = ["version: 1", "start: c0", "languages: [en, zh]", "prompts: prompts.yaml", "nodes:"]
    lines += [f"  c{i}: {{type: say, prompt: menu, next: c{i + 1}}}" for i in range(3000)]
    lines.append("  c3000: {type: hangup, prompt: bye}")
    flow = tmp_path / "callflows.yaml"
    flow.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "prompts.yaml").write_text(CATALOG, encoding="utf-8")

    assert len(load_flow(flow, HOTLINE_ACTIONS).nodes) == 3001


def test_a_chain_that_cannot_end_is_one_problem_naming_it_in_written_order(
    tmp_path: Path,
) -> None:
    lines = ["version: 1", "start: c0", "languages: [en, zh]", "prompts: prompts.yaml", "nodes:"]
    lines += [f"  c{i}: {{type: say, prompt: menu, next: c{(i + 1) % 300}}}" for i in range(300)]
    flow = tmp_path / "callflows.yaml"
    flow.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "prompts.yaml").write_text(CATALOG, encoding="utf-8")

    with pytest.raises(FlowErrors) as caught:
        load_flow(flow, HOTLINE_ACTIONS)

    trapped = [str(p) for p in caught.value.problems if "can ever end" in str(p)]
    names = ", ".join(f"'c{i}'" for i in range(300))
    assert trapped == [
        f"{flow}:6:7: no call that reaches {names} can ever end "  # at c0's mapping
        "(no way on to a queue, transfer or hangup)"
    ]


@pytest.fixture
def collector_on() -> object:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@pytest.mark.usefixtures("collector_on")
def test_the_collector_runs_again_after_a_flow_that_fails_to_load(tmp_path: Path) -> None:
    flow, text = big_flow(tmp_path, 3)
    flow.write_text(text.replace("next: h1", "next: nowhere"), encoding="utf-8")
    with pytest.raises(FlowErrors):
        load_flow(flow, HOTLINE_ACTIONS)
    assert gc.isenabled()
    flow.write_text("nodes: [unclosed\n", encoding="utf-8")
    with pytest.raises(FlowErrors):
        load_flow(flow, HOTLINE_ACTIONS)
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_the_collector_stays_off_while_it_is_paused_in_any_thread() -> None:
    inside, leave = threading.Event(), threading.Event()

    def other_load() -> None:
        with collector_paused():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other_load)
    thread.start()
    inside.wait(10)
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread is still loading
    leave.set()
    thread.join(10)
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a load that failed")
    assert not gc.isenabled()
