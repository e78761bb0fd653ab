"""YAML bombs are refused fast, as one FILE:LINE:COL problem, by the flow loader and for
the prompt catalog: an alias bomb, ten thousand levels of nesting, an alias inside the
node it names, too many values, a file over the size limit. Anchors and aliases as admins
use them (shared opening hours) still load.

Each bomb is loaded in a caged child process (``yaml_bombs.run_caged``: 1 GiB, 60 s), so
that a regression fails here instead of eating the machine.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from yaml_bombs import alias_bomb, deep_list, deep_mapping, run_caged

from ivr.app.bootstrap import load_hotline
from ivr.errors import FlowErrors
from ivr.flow import nodes
from ivr.flow.bounded_yaml import YamlLimits

ROOT = Path(__file__).resolve().parents[3]
REAL_FLOW = ROOT / "callflows.yaml"
REAL_CATALOG = ROOT / "prompts" / "prompts.yaml"
LIMITS = YamlLimits()
FAST = 3.0  # seconds to refuse a bomb, load included (a few milliseconds on a quiet machine)

LOAD = """\
import json, sys, time
from pathlib import Path
from ivr.app.bootstrap import load_hotline
from ivr.errors import FlowErrors
start = time.monotonic()
try:
    load_hotline(Path(sys.argv[1]))
    problems = []
except FlowErrors as exc:
    problems = [str(p) for p in exc.problems]
print(json.dumps({"problems": problems, "seconds": time.monotonic() - start}))
"""


def copy_real(
    directory: Path, flow_text: str | None = None, catalog_text: str | None = None
) -> Path:
    flow = directory / "callflows.yaml"
    flow.write_text(flow_text or REAL_FLOW.read_text(encoding="utf-8"), encoding="utf-8")
    catalog = directory / "prompts" / "prompts.yaml"
    catalog.parent.mkdir()
    catalog.write_text(catalog_text or REAL_CATALOG.read_text(encoding="utf-8"), encoding="utf-8")
    return flow


def caged_problems(flow: Path) -> list[str]:
    """The problems loading ``flow`` gives, loaded in a cage, and asserted fast."""
    done = run_caged([sys.executable, "-c", LOAD, str(flow)])
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["seconds"] < FAST
    problems: list[str] = result["problems"]
    return problems


def line_col(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the one occurrence of ``needle``."""
    assert text.count(needle) == 1, needle
    index = text.index(needle)
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


def test_alias_bomb_is_one_problem_at_the_alias_that_passes_the_limit(tmp_path: Path) -> None:
    text = REAL_FLOW.read_text(encoding="utf-8") + alias_bomb()
    flow = copy_real(tmp_path, text)

    # a=10 values, b=91, c=820, d=7381: aliases of b, c, d add 8289; the first *d passes 10000
    line, col = line_col(text, "e: &e [")
    assert caged_problems(flow) == [
        f"{flow}:{line}:{col + 7}: aliases would expand to more than "
        f"{LIMITS.max_alias_nodes} YAML values, the limit (*d alone stands for 7381)"
    ]


def test_alias_bomb_in_the_prompt_catalog_is_one_problem_in_the_catalog(tmp_path: Path) -> None:
    catalog_text = REAL_CATALOG.read_text(encoding="utf-8") + alias_bomb()
    flow = copy_real(tmp_path, catalog_text=catalog_text)

    line, col = line_col(catalog_text, "e: &e [")
    catalog = tmp_path / "prompts" / "prompts.yaml"
    [problem] = caged_problems(flow)
    assert problem.startswith(f"{catalog}:{line}:{col + 7}: aliases would expand to more than")


# What comes before the first value nested past the limit, in the prompt's value: the file,
# nodes and main_menu are three levels, so the 61st "[" opens level 64 and the next value is
# level 65; in a mapping the key of the 61st "{" is already at level 65.
BEFORE_LIST = "[" * (LIMITS.max_depth - 3)
BEFORE_KEY = "{a: " * (LIMITS.max_depth - 4) + "{"


@pytest.mark.parametrize(
    ("nest", "before"), [(deep_list, BEFORE_LIST), (deep_mapping, BEFORE_KEY)], ids=["list", "map"]
)
def test_ten_thousand_levels_are_one_problem_where_the_limit_is_passed(
    tmp_path: Path, nest: Callable[[int], str], before: str
) -> None:
    text = REAL_FLOW.read_text(encoding="utf-8").replace(
        "    prompt: main_menu\n", f"    prompt: {nest(10_000)}\n"
    )
    flow = copy_real(tmp_path, text)

    line, col = line_col(text, "    prompt: " + nest(10_000))
    col += len("    prompt: ") + len(before)
    assert caged_problems(flow) == [
        f"{flow}:{line}:{col}: nested more than {LIMITS.max_depth} levels deep, the limit"
    ]


def test_deep_block_nesting_is_refused_too(tmp_path: Path) -> None:
    text = REAL_FLOW.read_text(encoding="utf-8") + "deep:\n  " + "- " * 10_000 + "x\n"
    flow = copy_real(tmp_path, text)

    [problem] = caged_problems(flow)
    assert f"nested more than {LIMITS.max_depth} levels deep" in problem


def test_alias_inside_the_node_it_names_is_one_problem(tmp_path: Path) -> None:
    text = REAL_FLOW.read_text(encoding="utf-8") + "loop: &loop [1, *loop]\n"
    flow = copy_real(tmp_path, text)

    line, col = line_col(text, "*loop]")
    assert caged_problems(flow) == [
        f"{flow}:{line}:{col}: alias *loop is used inside the node &loop names"
    ]


def test_too_many_values_is_one_problem(tmp_path: Path) -> None:
    text = REAL_FLOW.read_text(encoding="utf-8") + "many:\n" + "  - x\n" * LIMITS.max_nodes
    flow = copy_real(tmp_path, text)

    [problem] = caged_problems(flow)
    assert f"more than {LIMITS.max_nodes} YAML values, the limit" in problem


def test_file_over_the_size_limit_is_one_problem_naming_size_and_limit(tmp_path: Path) -> None:
    text = REAL_FLOW.read_text(encoding="utf-8")
    text += "#" * (LIMITS.max_bytes - len(text.encode())) + "\n"  # one byte too many
    flow = copy_real(tmp_path, text)

    with pytest.raises(FlowErrors) as info:
        load_hotline(flow)
    assert [str(p) for p in info.value.problems] == [
        f"{flow}:1:1: the file is {LIMITS.max_bytes + 1} bytes, over the limit of "
        f"{LIMITS.max_bytes} bytes (1 MiB)"
    ]


def test_file_at_the_size_limit_loads(tmp_path: Path) -> None:
    text = REAL_FLOW.read_text(encoding="utf-8")
    text += "#" * (LIMITS.max_bytes - len(text.encode()) - 1) + "\n"
    flow = copy_real(tmp_path, text)

    assert load_hotline(flow).start == "choose_language"


def test_the_real_flows_shared_opening_hours_still_load() -> None:
    flow = load_hotline(REAL_FLOW)

    agent, payments = flow.nodes["agent_hours"], flow.nodes["payments_hours"]
    assert isinstance(agent, nodes.Hours) and isinstance(payments, nodes.Hours)
    assert payments.open == agent.open and payments.holidays == agent.holidays
    assert len(agent.holidays) == 6


def test_a_long_shared_holiday_list_used_by_many_nodes_loads(tmp_path: Path) -> None:
    days = "".join(f'      - "2028-{m:02}-{d:02}"\n' for m in range(1, 13) for d in range(1, 29))
    anchor = "    holidays: &agent_holidays     # payments_hours and closure_hours reuse this\n"
    text = REAL_FLOW.read_text(encoding="utf-8").replace(anchor, anchor + days)
    flow = copy_real(tmp_path, text)

    loaded = load_hotline(flow)
    hours = loaded.nodes["closure_hours"]
    assert isinstance(hours, nodes.Hours) and len(hours.holidays) == 12 * 28 + 6
