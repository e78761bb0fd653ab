"""The flow loader: the real hotline loads, and every rejection is reported once, at the
place to fix, as FILE:LINE:COL, with all problems of a file reported together.

Most tests write the small valid flow below (``FLOW`` + ``CATALOG``) to ``tmp_path`` with
exactly one mistake patched in, so each test shows one mistake and the one problem it gives:
a mistake must not cascade into a field of follow-on problems.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr.app.bootstrap import load_hotline
from ivr.errors import EngineError, FlowErrors, Problem, SourcePosition
from ivr.flow import model, nodes
from ivr.flow.engine import Engine
from ivr.flow.events import Digits
from ivr.flow.state import CallStart

ROOT = Path(__file__).resolve().parents[3]
REAL_FLOW = ROOT / "callflows.yaml"
REAL_CATALOG = ROOT / "prompts" / "prompts.yaml"

# A small flow that loads: a menu, the identification chain (account, secure PIN, verify
# with its retry loop), a use case, opening hours, a queue and a hangup.
FLOW = """\
version: 1
start: main_menu
languages: [en, zh]
prompts: prompts/prompts.yaml

defaults:
  timeout: 5s
  retries: 2
  on_error: agent
  on_max_visits: agent

queues:
  general: {priority: 1, skill: general}

nodes:
  main_menu:
    type: menu
    prompt: main_menu
    choices:
      1: ask_account
      0: agent_hours
      9: goodbye
    on_failure: agent

  ask_account:
    type: gather
    prompt: enter_account
    min_digits: 8
    max_digits: 8
    save_as: account_number
    next: ask_pin
    on_failure: agent

  ask_pin:
    type: gather
    prompt: enter_pin
    min_digits: 6
    max_digits: 6
    save_as: pin
    secure: true
    next: check_identity
    on_failure: agent

  check_identity:
    type: verify
    retry: ask_account
    on_success: freeze
    on_failure: agent
    on_locked: agent

  freeze:
    type: action
    action: freeze_account
    outcomes:
      frozen: frozen
      already_frozen: frozen

  frozen:
    type: say
    prompt: account_frozen
    next: goodbye

  agent_hours:
    type: hours
    timezone: Asia/Shanghai
    open:
      mon-fri: "09:00-21:00"
    holidays: ["2026-01-01"]
    on_open: agent
    on_closed: goodbye

  agent:
    type: queue
    queue: general

  goodbye:
    type: hangup
    prompt: goodbye
"""

CATALOG = """\
main_menu:
  en: "Press 1 to freeze your account, 0 for an agent, or 9 to hang up."
  zh: "冻结账户请按1,人工服务请按0,挂机请按9。"
enter_account:
  en: "Please enter your account number."
  zh: "请输入账户号码。"
enter_pin:
  en: "Please enter your PIN."
  zh: "请输入PIN码。"
account_frozen:
  en: "Your account is frozen. Your incident number is {incident}."
  zh: "您的账户已冻结。事件编号是{incident}。"
goodbye:
  en: "Thank you for calling. Goodbye."
  zh: "感谢您的来电,再见。"
"""

# Pieces of FLOW that tests patch (each occurs exactly once).
MAIN_MENU_END = "    on_failure: agent\n\n  ask_account:"
FROZEN_NEXT = "    next: goodbye\n\n  agent_hours:"
ASK_CODE = """
  ask_code:
    type: gather
    prompt: enter_pin
    save_as: code
    secure: true
    next: {next}
    on_failure: agent
"""

Patch = Sequence[tuple[str, str]]


def _patched(text: str, patch: Patch) -> str:
    for old, new in patch:
        assert text.count(old) == 1, f"patch target {old!r} must occur exactly once"
        text = text.replace(old, new)
    return text


def _position(path: Path, text: str, needle: str, nth: int, plus: int) -> SourcePosition:
    count = text.count(needle)
    assert count >= nth, f"{needle!r} is not in {path.name} {nth} time(s)"
    assert nth > 1 or count == 1, f"{needle!r} is in {path.name} {count} times: pass nth"
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    return _index_position(path, text, index + plus)


def _index_position(path: Path, text: str, index: int) -> SourcePosition:
    line_start = text.rfind("\n", 0, index) + 1
    return SourcePosition(str(path), text.count("\n", 0, index) + 1, index - line_start + 1)


@dataclass(frozen=True)
class FlowFiles:
    """A flow file and its catalog as written to disk, with helpers that say where a piece
    of text was written (1-based line and column, as problems report them)."""

    flow: Path
    flow_text: str
    catalog: Path
    catalog_text: str

    def at(self, needle: str, nth: int = 1, plus: int = 0) -> SourcePosition:
        """Where ``needle`` starts in the flow file, ``plus`` characters on (``needle`` must
        occur once, unless ``nth`` says which occurrence)."""
        return _position(self.flow, self.flow_text, needle, nth, plus)

    def in_catalog(self, needle: str, nth: int = 1) -> SourcePosition:
        return _position(self.catalog, self.catalog_text, needle, nth, 0)

    def node(self, node_id: str) -> SourcePosition:
        """Where a node's body starts (its first key): the position of the node."""
        match = re.search(rf"^  {node_id}:[^\n]*\n *", self.flow_text, re.MULTILINE)
        assert match, f"no node {node_id!r}"
        return _index_position(self.flow, self.flow_text, match.end())

    def load(self) -> model.Flow:
        return load_hotline(self.flow)

    def problems(self) -> list[Problem]:
        with pytest.raises(FlowErrors) as info:
            load_hotline(self.flow)
        return list(info.value.problems)

    def problem(self) -> Problem:
        """The one problem the flow has (fails, listing them, if there are more)."""
        problems = self.problems()
        assert len(problems) == 1, "expected one problem, got:\n" + _listing(problems)
        return problems[0]


def _listing(problems: Sequence[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


def write_files(directory: Path, flow_text: str, catalog_text: str | None) -> FlowFiles:
    """``callflows.yaml`` and (unless None) ``prompts/prompts.yaml``, as in the repository."""
    flow = directory / "callflows.yaml"
    flow.write_text(flow_text, encoding="utf-8")
    catalog = directory / "prompts" / "prompts.yaml"
    if catalog_text is not None:
        catalog.parent.mkdir(parents=True, exist_ok=True)
        catalog.write_text(catalog_text, encoding="utf-8")
    return FlowFiles(flow, flow_text, catalog, catalog_text or "")


def write_flow(
    tmp_path: Path,
    patch: Patch = (),
    add: str = "",
    catalog_patch: Patch = (),
    catalog: str | None = CATALOG,
) -> FlowFiles:
    """Write FLOW (with ``patch`` replacements and ``add`` appended to its nodes) and its
    catalog (with ``catalog_patch``; ``catalog=None`` writes none) into ``tmp_path``."""
    flow_text = _patched(FLOW, patch) + add
    catalog_text = None if catalog is None else _patched(catalog, catalog_patch)
    return write_files(tmp_path, flow_text, catalog_text)


def real_copy(
    tmp_path: Path, patch: Patch = (), add: str = "", catalog_patch: Patch = ()
) -> FlowFiles:
    """A copy of the real hotline flow and catalog, with patches."""
    flow_text = _patched(REAL_FLOW.read_text(encoding="utf-8"), patch) + add
    catalog_text = _patched(REAL_CATALOG.read_text(encoding="utf-8"), catalog_patch)
    return write_files(tmp_path, flow_text, catalog_text)


def _pos_of(problem: Problem) -> tuple[str, int, int]:
    return (problem.position.file, problem.position.line, problem.position.column)


# -- the real hotline and the base flow ---------------------------------------------------


def test_real_hotline_loads() -> None:
    flow = load_hotline(REAL_FLOW)
    assert flow.start == "choose_language"
    assert flow.languages == ("en", "zh")
    assert set(flow.queues) == {"security", "payments", "closure", "general"}
    assert isinstance(flow.nodes["check_identity"], nodes.Verify)
    assert "goodbye" in flow.catalog


def test_real_hotline_loads_by_relative_path_from_repo_root(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    flow = load_hotline(Path("callflows.yaml"))
    assert flow.source == "callflows.yaml"
    assert flow.nodes.keys() == load_hotline(REAL_FLOW).nodes.keys()


def test_base_flow_of_these_tests_loads(tmp_path: Path) -> None:
    files = write_flow(tmp_path)
    flow = files.load()
    assert flow.start == "main_menu"
    assert set(flow.nodes) == {
        "main_menu",
        "ask_account",
        "ask_pin",
        "check_identity",
        "freeze",
        "frozen",
        "agent_hours",
        "agent",
        "goodbye",
    }
    assert flow.nodes["main_menu"].position == files.node("main_menu")


def test_node_helper_points_at_the_first_key_of_a_node(tmp_path: Path) -> None:
    files = write_flow(tmp_path)
    assert files.node("main_menu") == SourcePosition(str(files.flow), 17, 5)
    assert files.at("retries: 2") == SourcePosition(str(files.flow), 8, 3)


# -- the acceptance case: three mistakes in a copy of the real flow -----------------------

ORPHAN = """
  old_promo:                      # no longer offered from any menu
    type: say
    prompt: goodbye
    next: goodbye
"""


def three_mistakes(tmp_path: Path) -> FlowFiles:
    """The real flow with a dangling target, an unreachable node and a prompt without its
    Chinese text."""
    return real_copy(
        tmp_path,
        patch=[("    next: main_menu\n", "    next: main_meun\n")],
        add=ORPHAN,
        catalog_patch=[('  zh: "感谢您的来电，再见。"\n', "")],
    )


def test_three_mistakes_in_the_real_flow_give_exactly_three_problems(tmp_path: Path) -> None:
    files = three_mistakes(tmp_path)
    problems = files.problems()
    assert [p.position for p in problems] == [
        files.at("main_meun"),
        files.node("old_promo"),
        files.in_catalog("goodbye:"),
    ], _listing(problems)
    dangling, unreachable, no_chinese = (p.message for p in problems)
    assert dangling == (
        "node 'welcome': next goes to 'main_meun', which is not a node (did you mean 'main_menu'?)"
    )
    assert unreachable == "node 'old_promo' is never reached from the start"
    assert no_chinese == "prompt 'goodbye' has no 'zh' text"


def test_problems_print_as_file_line_col_message(tmp_path: Path) -> None:
    files = three_mistakes(tmp_path)
    first = files.problems()[0]
    line = files.flow_text.splitlines().index("    next: main_meun") + 1
    assert str(first) == (
        f"{files.flow}:{line}:11: node 'welcome': next goes to 'main_meun', which is not a "
        "node (did you mean 'main_menu'?)"
    )
    assert str(FlowErrors(files.problems())).splitlines()[0] == str(first)


# -- YAML syntax ---------------------------------------------------------------------------


def test_yaml_bad_indentation_is_a_syntax_error_at_the_line(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[(FROZEN_NEXT, FROZEN_NEXT.replace("    next", "   next"))])
    problem = files.problem()
    assert problem.position == files.at("next: goodbye\n\n  agent_hours")
    assert problem.position.column == 4
    assert problem.message.startswith("YAML syntax:")


def test_yaml_tab_is_a_syntax_error_at_the_tab(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[(FROZEN_NEXT, FROZEN_NEXT.replace("    next", "\tnext"))])
    problem = files.problem()
    assert problem.position == files.at("\tnext")
    assert "YAML syntax" in problem.message and "'\\t'" in problem.message


def test_unquoted_star_key_is_a_syntax_error_on_its_line(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path, patch=[("      9: goodbye\n", "      9: goodbye\n      *: agent\n")]
    )
    problem = files.problem()
    # PyYAML marks the character after the '*' (it reads '*' as the start of an alias).
    assert problem.position == files.at("*: agent", plus=1)
    assert problem.message.startswith("YAML syntax:")


def test_unquoted_star_key_hints_at_quoting(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path, patch=[("      9: goodbye\n", "      9: goodbye\n      *: agent\n")]
    )
    problem = files.problem()
    assert 'keypad keys "*" and "#" must be quoted' in problem.message


def test_unquoted_star_value_is_an_undefined_alias_with_a_quoting_hint(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("      9: goodbye\n", "      9: *goodbye\n")])
    problem = files.problem()
    assert problem.position == files.at("*goodbye")
    assert "undefined alias 'goodbye'" in problem.message
    assert 'keypad keys "*" and "#" must be quoted' in problem.message


def test_yaml_syntax_error_in_the_catalog_names_the_catalog(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path, catalog_patch=[('  zh: "感谢您的来电,再见。"', '  zh: "感谢您的来电')]
    )
    [syntax] = [p for p in files.problems() if p.position.file == str(files.catalog)]
    # PyYAML finds the unclosed quote at the end of the file (line after the last one)
    end = SourcePosition(str(files.catalog), files.catalog_text.count("\n") + 1, 1)
    assert syntax.position == end
    assert syntax.message == "YAML syntax: found unexpected end of stream"


# -- empty and unreadable files -----------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_flow_file(tmp_path: Path, text: str) -> None:
    files = write_files(tmp_path, text, CATALOG)
    problem = files.problem()
    assert problem.position == SourcePosition(str(files.flow), 1, 1)
    assert problem.message == "the file is empty"


def test_missing_flow_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(FlowErrors) as info:
        load_hotline(missing)
    (problem,) = info.value.problems
    assert problem.position == SourcePosition(str(missing), 1, 1)
    assert problem.message.startswith("cannot read file")


def test_flow_file_that_is_not_utf8(tmp_path: Path) -> None:
    files = write_flow(tmp_path)
    files.flow.write_bytes(b"version: 1\nstart: \xff\xfe\n")
    problem = files.problem()
    assert problem.position == SourcePosition(str(files.flow), 1, 1)
    assert "not UTF-8" in problem.message


def test_missing_prompt_catalog_is_reported_at_the_catalog(tmp_path: Path) -> None:
    files = write_flow(tmp_path, catalog=None)
    problems = files.problems()
    assert problems[-1].position == SourcePosition(str(files.catalog), 1, 1)
    assert problems[-1].message.startswith("cannot read file")


def test_empty_prompt_catalog_is_reported_at_the_catalog(tmp_path: Path) -> None:
    files = write_flow(tmp_path, catalog="")
    problems = files.problems()
    assert problems[-1].position == SourcePosition(str(files.catalog), 1, 1)
    assert problems[-1].message == "the file is empty"


@pytest.mark.parametrize(
    "catalog",
    [None, "", 'goodbye:\n  en: "Goodbye\n'],
    ids=["missing", "empty", "yaml-syntax"],
)
def test_unreadable_catalog_is_one_problem_not_one_per_prompt(
    tmp_path: Path, catalog: str | None
) -> None:
    files = write_flow(tmp_path, catalog=catalog)
    problem = files.problem()
    assert problem.position.file == str(files.catalog)


# -- keys: unknown, missing, duplicate ----------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key", "where", "hint"),
    [
        ("version: 1", "versoin: 1", "versoin", "the flow file", "version"),
        ("  retries: 2\n", "  retires: 2\n", "retires", "defaults", "retries"),
        ("{priority: 1, skill", "{priorty: 1, skill", "priorty", "queue 'general'", "priority"),
        (
            MAIN_MENU_END,
            "    on_failure: agent\n    timout: 6s\n\n  ask_account:",
            "timout",
            "menu node 'main_menu'",
            "timeout",
        ),
        (
            "    save_as: pin\n",
            "    save_as: pin\n    secret: true\n",
            "secret",
            "gather node 'ask_pin'",
            "secure",
        ),
    ],
    ids=["top-level", "defaults", "queue", "menu", "gather"],
)
def test_unknown_key_with_suggestion(
    tmp_path: Path, old: str, new: str, key: str, where: str, hint: str
) -> None:
    files = write_flow(tmp_path, patch=[(old, new)])
    problem = files.problem()
    assert problem.position == files.at(f"{key}:")
    assert problem.message == f"unknown key '{key}' in {where} (did you mean '{hint}'?)"


def test_unknown_key_far_from_any_gives_no_suggestion(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path, patch=[(MAIN_MENU_END, MAIN_MENU_END.replace("\n\n", "\n    colour: blue\n\n"))]
    )
    problem = files.problem()
    assert problem.position == files.at("colour:")
    assert problem.message == "unknown key 'colour' in menu node 'main_menu'"


def test_unknown_language_key_in_catalog(tmp_path: Path) -> None:
    files = write_flow(tmp_path, catalog_patch=[('  en: "Thank you', '  eng: "Thank you')])
    problems = files.problems()
    assert [(p.position, p.message) for p in problems] == [
        (files.in_catalog("goodbye:"), "prompt 'goodbye' has no 'en' text"),
        (files.in_catalog("eng:"), "unknown key 'eng' in prompt 'goodbye' (did you mean 'en'?)"),
    ]


@pytest.mark.parametrize(
    ("old", "node", "message"),
    [
        ("    queue: general\n", "agent", "queue node 'agent' needs 'queue'"),
        (
            "    on_locked: agent\n",
            "check_identity",
            "verify node 'check_identity' needs 'on_locked'",
        ),
        ("    on_closed: goodbye\n", "agent_hours", "hours node 'agent_hours' needs 'on_closed'"),
        (
            "    save_as: account_number\n",
            "ask_account",
            "gather node 'ask_account' needs 'save_as'",
        ),
    ],
    ids=["queue", "verify", "hours", "gather"],
)
def test_missing_required_key(tmp_path: Path, old: str, node: str, message: str) -> None:
    files = write_flow(tmp_path, patch=[(old, "")])
    problem = files.problem()
    assert problem.position == files.node(node)
    assert problem.message == message


def test_missing_start(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("start: main_menu\n", "")])
    problems = files.problems()
    assert problems[0].position == SourcePosition(str(files.flow), 1, 1)
    assert problems[0].message == "the flow file needs 'start'"


def test_missing_next_is_one_problem(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[(FROZEN_NEXT, "\n  agent_hours:")])
    problem = files.problem()
    assert problem.position == files.node("frozen")
    assert problem.message == "say node 'frozen' needs 'next'"


def test_missing_next_is_reported(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[(FROZEN_NEXT, "\n  agent_hours:")])
    messages = {(p.position, p.message) for p in files.problems()}
    assert (files.node("frozen"), "say node 'frozen' needs 'next'") in messages


def test_node_without_type(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("    type: queue\n", "")])
    problems = files.problems()
    [problem] = [p for p in problems if "needs 'type'" in p.message]
    assert problem.position == files.node("agent")
    assert problem.message.startswith("node 'agent' needs 'type' (one of menu, say, gather")


def test_duplicate_node_id(tmp_path: Path) -> None:
    files = write_flow(tmp_path, add="\n  frozen:\n    type: hangup\n")
    problem = files.problem()
    assert problem.position == files.at("  frozen:\n", nth=2, plus=2)
    first_line = files.node("frozen").line - 1
    assert problem.message == (
        f"duplicate key 'frozen' in 'nodes' of the flow file (first at line {first_line})"
    )


def test_duplicate_top_level_key(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path, patch=[("languages: [en, zh]\n", "languages: [en, zh]\nstart: main_menu\n")]
    )
    problem = files.problem()
    assert problem.position == files.at("start: main_menu", nth=2)
    assert problem.message == "duplicate key 'start' in the flow file (first at line 2)"


# -- node types and value types -----------------------------------------------------------


def test_unknown_node_type_is_reported_with_suggestion(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("    type: hangup\n", "    type: hangpu\n")])
    problems = files.problems()
    wanted = (files.at("hangpu"), "node 'goodbye': unknown type 'hangpu' (did you mean 'hangup'?)")
    assert wanted in [(p.position, p.message) for p in problems]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("    type: hangup\n", "    type: hangpu\n"),
        ("    type: hangup\n", ""),
        ("  goodbye:\n    type: hangup\n    prompt: goodbye\n", "  goodbye: hangup\n"),
    ],
    ids=["unknown-type", "no-type", "not-a-mapping"],
)
def test_broken_node_is_one_problem_not_a_cascade(tmp_path: Path, old: str, new: str) -> None:
    files = write_flow(tmp_path, patch=[(old, new)])
    problem = files.problem()
    assert "goodbye" in problem.message


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        (
            "  retries: 2\n",
            "  retries: many\n",
            "many",
            "'retries' in defaults: expected a whole number, got 'many'",
        ),
        (
            "    min_digits: 8\n",
            "    min_digits: 8\n    retries: many\n",
            "many",
            "'retries' in gather node 'ask_account': expected a whole number, got 'many'",
        ),
        (
            "    min_digits: 6\n",
            "    min_digits: six\n",
            "six",
            "'min_digits' in gather node 'ask_pin': expected a whole number, got 'six'",
        ),
        (
            "    prompt: goodbye\n",
            "    prompt: {en: bye}\n",
            "{en: bye}",
            "'prompt' in hangup node 'goodbye' must be a text or a list",
        ),
        (
            "    prompt: account_frozen\n",
            "    prompt: account_frozen\n    set: [a, b]\n",
            "[a, b]",
            "'set' of say node 'frozen' must be a mapping of key: value lines",
        ),
        ("version: 1", "version: 2", "2\nstart", "only version 1 of the flow format exists"),
        (
            MAIN_MENU_END,
            "    on_failure: agent\n    max_visits: 0\n\n  ask_account:",
            "0\n\n",
            "'max_visits' in menu node 'main_menu': must be at least 1, got 0",
        ),
    ],
    ids=[
        "defaults-retries",
        "node-retries",
        "min_digits",
        "prompt-mapping",
        "set-list",
        "version",
        "max_visits-0",
    ],
)
def test_wrong_type(tmp_path: Path, old: str, new: str, needle: str, message: str) -> None:
    files = write_flow(tmp_path, patch=[(old, new)])
    problem = files.problem()
    assert problem.position == files.at(needle)
    assert problem.message == message


def test_wrong_boolean_is_reported(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("secure: true", "secure: maybe")])
    problems = files.problems()
    wanted = (
        files.at("maybe"),
        "'secure' in gather node 'ask_pin': expected true or false, got 'maybe'",
    )
    assert wanted in [(p.position, p.message) for p in problems]


def test_wrong_boolean_is_one_problem(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("secure: true", "secure: maybe")])
    problem = files.problem()
    assert problem.position == files.at("maybe")


PIN_SECURE = "    secure: true\n"


def test_type_ahead_is_on_unless_an_input_node_turns_it_off(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[(PIN_SECURE, PIN_SECURE + "    type_ahead: no\n")])
    flow = files.load()
    kept = {n.id: n.type_ahead for n in flow.nodes.values() if isinstance(n, nodes.Input)}
    assert kept == {"main_menu": True, "ask_account": True, "ask_pin": False}


def test_a_wrong_type_ahead_is_one_problem_at_its_value(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[(PIN_SECURE, PIN_SECURE + "    type_ahead: often\n")])
    problem = files.problem()
    assert problem.position == files.at("often")
    assert problem.message == (
        "'type_ahead' in gather node 'ask_pin': expected true or false, got 'often'"
    )


def test_type_ahead_belongs_to_input_nodes_only(tmp_path: Path) -> None:
    said = FROZEN_NEXT.replace("\n\n", "\n    type_ahead: false\n\n")
    files = write_flow(tmp_path, patch=[(FROZEN_NEXT, said)])
    problem = files.problem()
    assert problem.position == files.at("type_ahead:")
    assert problem.message.startswith("unknown key 'type_ahead' in say node 'frozen'")


def test_choices_that_are_not_a_mapping_are_reported(tmp_path: Path) -> None:
    choices = "    choices:\n      1: ask_account\n      0: agent_hours\n      9: goodbye\n"
    files = write_flow(tmp_path, patch=[(choices, "    choices: [ask_account, goodbye]\n")])
    problems = files.problems()
    wanted = (
        files.at("[ask_account, goodbye]"),
        "'choices' of menu node 'main_menu' must be a mapping of key: value lines",
    )
    assert wanted in [(p.position, p.message) for p in problems]


def test_choices_that_are_not_a_mapping_are_one_problem(tmp_path: Path) -> None:
    choices = "    choices:\n      1: ask_account\n      0: agent_hours\n      9: goodbye\n"
    files = write_flow(tmp_path, patch=[(choices, "    choices: [ask_account, goodbye]\n")])
    problem = files.problem()
    assert problem.position == files.at("[ask_account, goodbye]")


@pytest.mark.parametrize(
    ("old", "new", "needle", "what"),
    [
        ("  timeout: 5s\n", "  timeout: 5 parsecs\n", "5 parsecs", "'timeout' in defaults"),
        (
            "    min_digits: 8\n",
            "    min_digits: 8\n    timeout: 8 secs\n",
            "8 secs",
            "'timeout' in gather node 'ask_account'",
        ),
        ("  timeout: 5s\n", "  timeout: s5\n", "s5", "'timeout' in defaults"),
    ],
    ids=["defaults", "node", "unit-first"],
)
def test_bad_duration(tmp_path: Path, old: str, new: str, needle: str, what: str) -> None:
    files = write_flow(tmp_path, patch=[(old, new)])
    problem = files.problem()
    assert problem.position == files.at(needle)
    assert problem.message == (
        f"{what}: bad duration '{needle}': write it like 500ms, 5s, 2m or 1m30s"
    )


# -- targets, reachability, endings, loops -------------------------------------------------


def test_dangling_target_with_suggestion(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("      frozen: frozen\n", "      frozen: frozne\n")])
    problem = files.problem()
    assert problem.position == files.at("frozne")
    assert problem.message == (
        "node 'freeze': outcome frozen goes to 'frozne', which is not a node "
        "(did you mean 'frozen'?)"
    )


def test_dangling_target_without_close_node_has_no_suggestion(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("    on_open: agent\n", "    on_open: operator_desk\n")])
    problem = files.problem()
    assert problem.position == files.at("operator_desk")
    assert (
        problem.message
        == "node 'agent_hours': on_open goes to 'operator_desk', which is not a node"
    )


@pytest.mark.parametrize(
    ("old", "new", "typo"),
    [
        ("      1: ask_account\n", "      1: ask_acount\n", "ask_acount"),
        ("    retry: ask_account\n", "    retry: ask_acount\n", "ask_acount"),
        ("    next: ask_pin\n", "    next: ask_ping\n", "ask_ping"),
        ("    on_success: freeze\n", "    on_success: freze\n", "freze"),
    ],
    ids=["choice", "retry", "next", "on_success"],
)
def test_dangling_typo_does_not_cascade_into_never_reached(
    tmp_path: Path, old: str, new: str, typo: str
) -> None:
    """The nodes behind a typo are read as reached through it: one typo, one problem."""
    files = write_flow(tmp_path, patch=[(old, new)])
    problem = files.problem()
    assert problem.position == files.at(typo)
    assert f"goes to '{typo}', which is not a node (did you mean" in problem.message


def test_dangling_typo_after_secure_gather_is_one_problem(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path, patch=[("    next: check_identity\n", "    next: check_identiy\n")]
    )
    problem = files.problem()
    assert problem.position == files.at("check_identiy")


def test_start_that_is_not_a_node_is_reported(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("start: main_menu", "start: main_meun")])
    problems = files.problems()
    assert any(
        p.position == files.at("main_meun")
        and p.message.startswith("start 'main_meun' is not a node")
        for p in problems
    )


def test_start_typo_is_one_problem_with_suggestion(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("start: main_menu", "start: main_meun")])
    problem = files.problem()
    assert problem.position == files.at("main_meun")
    assert "(did you mean 'main_menu'?)" in problem.message


def test_missing_start_is_one_problem(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("start: main_menu\n", "")])
    problem = files.problem()
    assert problem.message == "the flow file needs 'start'"


def test_unreachable_node(tmp_path: Path) -> None:
    files = write_flow(tmp_path, add=ORPHAN)
    problem = files.problem()
    assert problem.position == files.node("old_promo")
    assert problem.message == "node 'old_promo' is never reached from the start"


def test_unreachable_subtree_is_one_problem_naming_it(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path,
        add="""
  old_promo:
    type: say
    prompt: goodbye
    next: old_promo_menu

  old_promo_menu:
    type: menu
    prompt: main_menu
    choices:
      1: old_promo_end
    on_failure: agent

  old_promo_end:
    type: hangup
""",
    )
    problem = files.problem()
    assert problem.position == files.node("old_promo")
    assert problem.message == (
        "node 'old_promo' is never reached from the start "
        "(nor is 'old_promo_end', 'old_promo_menu', reached only from it)"
    )


def test_unreachable_cycle_is_one_problem(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path,
        add="""
  ping:
    type: say
    prompt: goodbye
    next: pong

  pong:
    type: say
    prompt: goodbye
    next: ping
""",
    )
    problem = files.problem()
    assert problem.position == files.node("ping")
    assert problem.message == (
        "node 'ping' is never reached from the start (nor is 'pong', reached only from it)"
    )


def test_long_unreachable_subtree_is_summarised(tmp_path: Path) -> None:
    chain = "".join(
        f"\n  lost{i}:\n    type: say\n    prompt: goodbye\n    next: lost{i + 1}\n"
        for i in range(7)
    )
    files = write_flow(tmp_path, add=chain + "\n  lost7:\n    type: hangup\n")
    problem = files.problem()
    assert problem.position == files.node("lost0")
    assert problem.message == (
        "node 'lost0' is never reached from the start (nor is 'lost1', 'lost2', 'lost3', "
        "'lost4', 'lost5' and 2 more, reached only from it)"
    )


SPIN = """
  spin:
    type: say
    prompt: goodbye
    next: spin
    max_visits: 2
    on_max_visits: spin
"""


def test_node_from_which_no_call_can_end(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path, patch=[("      9: goodbye\n", "      9: goodbye\n      2: spin\n")], add=SPIN
    )
    problem = files.problem()
    assert problem.position == files.node("spin")
    assert problem.message == (
        "no call that reaches 'spin' can ever end (no way on to a queue, transfer or hangup)"
    )


LOOP = [(FROZEN_NEXT, "    next: main_menu\n\n  agent_hours:")]


def test_loop_without_max_visits(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=LOOP)
    problem = files.problem()
    assert problem.position == files.node("main_menu")
    assert problem.message == (
        "nodes 'main_menu', 'ask_account', 'ask_pin', 'check_identity', 'freeze', 'frozen' "
        "form a loop that nothing bounds: give one of them max_visits"
    )


@pytest.mark.parametrize(
    "bounded",
    [MAIN_MENU_END, "    prompt: account_frozen\n"],
    ids=["main_menu", "frozen"],
)
def test_max_visits_on_any_node_of_the_loop_fixes_it(tmp_path: Path, bounded: str) -> None:
    with_max = bounded.replace("\n", "\n    max_visits: 3\n", 1)
    flow = write_flow(tmp_path, patch=[*LOOP, (bounded, with_max)]).load()
    bounded_ids = [n.id for n in flow.nodes.values() if n.max_visits == 3]
    assert len(bounded_ids) == 1
    assert flow.nodes[bounded_ids[0]].on_max_visits == "agent"  # defaults.on_max_visits


def test_verify_retry_loop_needs_no_max_visits(tmp_path: Path) -> None:
    """ask_account -> ask_pin -> check_identity -retry-> ask_account is bounded by attempts."""
    flow = write_flow(tmp_path).load()
    verify = flow.nodes["check_identity"]
    assert isinstance(verify, nodes.Verify) and verify.retry == "ask_account"
    assert all(flow.nodes[n].max_visits is None for n in ("ask_account", "ask_pin"))


def test_same_loop_through_another_verify_edge_is_rejected(tmp_path: Path) -> None:
    """Only a verify's retry counts as bounded: on_failure back to the start is a loop."""
    files = write_flow(
        tmp_path,
        patch=[
            ("    on_failure: agent\n    on_locked", "    on_failure: ask_account\n    on_locked")
        ],
    )
    problem = files.problem()
    assert problem.position == files.node("ask_account")
    assert problem.message == (
        "nodes 'ask_account', 'ask_pin', 'check_identity' form a loop that nothing bounds: "
        "give one of them max_visits"
    )


def test_on_max_visits_leading_back_into_the_loop_is_rejected(tmp_path: Path) -> None:
    patch = [
        ("start: main_menu", "start: frozen"),
        ("      9: goodbye\n", "      9: frozen\n"),
        (
            MAIN_MENU_END,
            "    on_failure: agent\n    max_visits: 1\n    on_max_visits: frozen\n\n  ask_account:",
        ),
        *LOOP,
    ]
    files = write_flow(tmp_path, patch=patch)
    try:
        flow = files.load()
    except FlowErrors as exc:
        assert any("loop" in p.message or "on_max_visits" in p.message for p in exc.problems)
        return
    engine = Engine(flow)  # what a call does with the flow as loaded:
    state, _ = engine.start(CallStart("c1"))  # frozen -> main_menu (1st visit), waits
    with pytest.raises(EngineError, match="went round without input"):
        engine.step(state, Digits("9"))  # -> frozen -> main_menu (used up) -> frozen -> ...
    pytest.fail("the flow loaded, and a call that presses 9 makes the engine raise EngineError")


def test_max_visits_without_on_max_visits(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path,
        patch=[
            ("  on_max_visits: agent\n", ""),
            (MAIN_MENU_END, "    on_failure: agent\n    max_visits: 3\n\n  ask_account:"),
        ],
    )
    problem = files.problem()
    assert problem.position == files.at("3\n\n  ask_account")
    assert problem.message == (
        "node 'main_menu' has max_visits but no on_max_visits (and defaults has none)"
    )


def test_max_visits_with_its_own_on_max_visits_needs_no_default(tmp_path: Path) -> None:
    flow = write_flow(
        tmp_path,
        patch=[
            ("  on_max_visits: agent\n", ""),
            (
                MAIN_MENU_END,
                "    on_failure: agent\n    max_visits: 3\n    on_max_visits: goodbye\n"
                "\n  ask_account:",
            ),
        ],
    ).load()
    assert flow.nodes["main_menu"].on_max_visits == "goodbye"


def test_use_case_without_any_on_error_is_rejected(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("  on_error: agent\n", "")])
    problems = files.problems()
    assert {p.position for p in problems} == {files.node("check_identity"), files.node("freeze")}


def test_defaults_on_error_typo_is_one_problem_at_the_value(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("  on_error: agent\n", "  on_error: agnet\n")])
    problem = files.problem()
    assert problem.position == files.at("agnet")
    assert "(did you mean 'agent'?)" in problem.message


# -- keypad ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra", ["      1: goodbye\n", '      "1": goodbye\n'], ids=["same", "quoted"]
)
def test_duplicate_keypad_choice(tmp_path: Path, extra: str) -> None:
    files = write_flow(tmp_path, patch=[("      9: goodbye\n", "      9: goodbye\n" + extra)])
    problem = files.problem()
    assert problem.position == files.at(extra.strip())
    first_line = files.at("1: ask_account").line
    assert problem.message == (
        f"duplicate key '1' in 'choices' of menu node 'main_menu' (first at line {first_line})"
    )


@pytest.mark.parametrize("key", ["a", "10", '"**"'])
def test_keypad_key_that_is_not_a_key(tmp_path: Path, key: str) -> None:
    files = write_flow(
        tmp_path, patch=[("      9: goodbye\n", f"      9: goodbye\n      {key}: agent\n")]
    )
    problem = files.problem()
    shown = key.strip('"')
    assert problem.position == files.at(f"{key}: agent")
    assert problem.message == (
        f"'{shown}' in menu node 'main_menu' is not a keypad key (0-9, \"*\", \"#\")"
    )


def test_quoted_star_and_hash_are_keys(tmp_path: Path) -> None:
    flow = write_flow(
        tmp_path,
        patch=[("      9: goodbye\n", '      9: goodbye\n      "*": repeat\n      "#": agent\n')],
    ).load()
    menu = flow.nodes["main_menu"]
    assert isinstance(menu, nodes.Menu)
    assert menu.choices["*"] == "repeat" and menu.choices["#"] == "agent"


# -- prompts and placeholders ---------------------------------------------------------------


def test_prompt_id_missing_from_catalog(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("    prompt: goodbye\n", "    prompt: good_bye\n")])
    problem = files.problem()
    assert problem.position == files.at("good_bye")
    assert problem.message == (
        "node 'goodbye': prompt 'good_bye' is not in the catalog (did you mean 'goodbye'?)"
    )


DEFAULT_PROMPT_TYPO = [("  retries: 2\n", "  retries: 2\n  invalid_prompt: invalid_choise\n")]


def test_default_prompt_missing_from_catalog_is_reported(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=DEFAULT_PROMPT_TYPO)
    problems = files.problems()
    assert problems, "a default prompt missing from the catalog must be reported"
    assert all("prompt 'invalid_choise' is not in the catalog" in p.message for p in problems)


def test_default_prompt_missing_from_catalog_is_one_problem_at_the_value(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=DEFAULT_PROMPT_TYPO)
    problem = files.problem()
    assert problem.position == files.at("invalid_choise")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_prompt_missing_a_language(tmp_path: Path, language: str) -> None:
    line = {
        "en": '  en: "Thank you for calling. Goodbye."\n',
        "zh": '  zh: "感谢您的来电,再见。"\n',
    }
    files = write_flow(tmp_path, catalog_patch=[(line[language], "")])
    problem = files.problem()
    assert problem.position == files.in_catalog("goodbye:")
    assert problem.message == f"prompt 'goodbye' has no '{language}' text"


def test_prompt_with_an_empty_text(tmp_path: Path) -> None:
    files = write_flow(tmp_path, catalog_patch=[('  zh: "感谢您的来电,再见。"', '  zh: " "')])
    problem = files.problem()
    assert problem.position == files.in_catalog('" "')
    assert problem.message == "prompt 'goodbye': the 'zh' text is empty"


def test_languages_with_different_placeholders(tmp_path: Path) -> None:
    files = write_flow(tmp_path, catalog_patch=[("事件编号是{incident}。", "事件已记录。")])
    problem = files.problem()
    assert problem.position == files.in_catalog("account_frozen:")
    assert problem.message == (
        "prompt 'account_frozen': languages use different placeholders (en: ['incident']; zh: none)"
    )


def test_placeholder_nobody_provides(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path,
        catalog_patch=[
            ("Thank you for calling. Goodbye.", "Goodbye, {holder}."),
            ("感谢您的来电,再见。", "{holder},再见。"),
        ],
    )
    problem = files.problem()
    assert problem.position == files.at("prompt: goodbye", plus=len("prompt: "))
    assert problem.message == (
        "node 'goodbye': prompt 'goodbye' says {holder}, which no node or use case provides"
    )


def test_placeholders_from_set_gather_and_use_cases_are_provided(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path,
        patch=[
            (
                "    prompt: account_frozen\n",
                "    prompt: account_frozen\n    set: {team: security}\n",
            )
        ],
        catalog_patch=[
            (
                "Your incident number is {incident}.",
                "{holder_name}, {account_number}, {incident}, {team}, {ani}.",
            ),
            ("事件编号是{incident}。", "{holder_name}{account_number}{incident}{team}{ani}"),
        ],
    )
    files.load()


def test_dynamic_prompt_id_needs_a_fixed_set_of_values(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path, patch=[("    prompt: goodbye\n", '    prompt: "bye_{language}"\n')]
    )
    problem = files.problem()
    assert problem.position == files.at('"bye_{language}"')
    assert problem.message.startswith(
        "node 'goodbye': prompt id 'bye_{language}' may hold only one placeholder"
    )


def test_dynamic_prompt_id_is_checked_for_every_value(tmp_path: Path) -> None:
    files = real_copy(
        tmp_path,
        catalog_patch=[("payment_reason_card_expired:\n", "payment_reason_card_expiry:\n")],
    )
    problems = files.problems()
    # the catalog entry renamed: 'card_expiry' is unused (not an error) but 'card_expired' is
    # missing, reported where the dynamic id is written, at the start of the prompt list
    assert [(p.position, p.message) for p in problems] == [
        (
            files.at('[payment_failed_summary, "payment_reason_{failure_reason}"]'),
            "node 'payment_details': prompt 'payment_reason_card_expired' (from "
            "'payment_reason_{failure_reason}') is not in the catalog "
            "(did you mean 'payment_reason_card_expiry'?)",
        )
    ]


# -- use cases, queues, secure digits -------------------------------------------------------


def test_action_not_registered_is_reported(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("action: freeze_account", "action: freeze_acount")])
    problems = files.problems()
    wanted = (
        files.at("freeze_acount"),
        "node 'freeze': 'freeze_acount' is not a registered use case "
        "(did you mean 'freeze_account'?)",
    )
    assert wanted in [(p.position, p.message) for p in problems]


@pytest.mark.parametrize(
    ("new", "where"),
    [("    action: freeze_acount\n", "freeze_acount"), ("", "")],
    ids=["misspelled", "missing"],
)
def test_action_not_registered_is_one_problem(tmp_path: Path, new: str, where: str) -> None:
    files = write_flow(tmp_path, patch=[("    action: freeze_account\n", new)])
    problem = files.problem()
    assert problem.position == (files.at(where) if where else files.node("freeze"))


def test_action_outcome_not_registered(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path,
        patch=[
            (
                "      already_frozen: frozen\n",
                "      already_frozen: frozen\n      melted: frozen\n",
            )
        ],
    )
    problem = files.problem()
    assert problem.position == files.at("melted:")
    assert problem.message == (
        "node 'freeze': freeze_account has no outcome 'melted' (it has: already_frozen, frozen)"
    )


def test_registered_outcome_left_unmapped(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("      already_frozen: frozen\n", "")])
    problem = files.problem()
    assert problem.position == files.node("freeze")
    assert (
        problem.message == "node 'freeze': outcome 'already_frozen' of freeze_account goes nowhere"
    )


def test_queue_not_defined(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("    queue: general\n", "    queue: genral\n")])
    problem = files.problem()
    assert problem.position == files.at("genral")
    assert (
        problem.message == "node 'agent': queue 'genral' is not defined (did you mean 'general'?)"
    )


def test_secure_gather_not_followed_by_its_use_case(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path,
        patch=[("      9: goodbye\n", "      9: goodbye\n      2: ask_code\n")],
        add=ASK_CODE.format(next="goodbye"),
    )
    problem = files.problem()
    assert problem.position == files.at("next: goodbye", nth=2, plus=len("next: "))
    assert problem.message == (
        "secure gather 'ask_code' must go straight to the verify or action node that uses "
        "'code' (secure digits are never stored)"
    )


def test_secure_gather_straight_to_an_action_is_allowed(tmp_path: Path) -> None:
    flow = write_flow(
        tmp_path,
        patch=[("      9: goodbye\n", "      9: goodbye\n      2: ask_code\n")],
        add=ASK_CODE.format(next="freeze"),
    ).load()
    assert flow.nodes["ask_code"].edges()[0] == ("next", "freeze")


def test_verify_with_no_secure_pin_gather_feeding_it(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("secure: true", "secure: false")])
    problem = files.problem()
    assert problem.position == files.node("check_identity")
    assert problem.message == (
        "verify 'check_identity' reads the PIN from 'pin', but no secure gather saving it "
        "leads straight here"
    )


# -- opening hours --------------------------------------------------------------------------


def test_bad_time_zone(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("Asia/Shanghai", "Asia/Beijing")])
    problem = files.problem()
    assert problem.position == files.at("Asia/Beijing")
    assert problem.message == "hours node 'agent_hours': unknown time zone 'Asia/Beijing'"


@pytest.mark.parametrize(
    ("span", "why"),
    [
        ("21:00-09:00", "ends before it starts (split ranges that cross midnight)"),
        ("9am-9pm", 'is not a time range like "09:00-18:00"'),
        ("09:00-25:00", 'is not a time range like "09:00-18:00"'),
        ("09:00", 'is not a time range like "09:00-18:00"'),
    ],
)
def test_bad_opening_hours_range(tmp_path: Path, span: str, why: str) -> None:
    files = write_flow(tmp_path, patch=[("09:00-21:00", span)])
    problem = files.problem()
    assert problem.position == files.at(f'"{span}"')
    assert problem.message == f"hours node 'agent_hours': '{span}' {why}"


def test_bad_opening_days(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[("mon-fri:", "monday-friday:")])
    problem = files.problem()
    assert problem.position == files.at("monday-friday")
    assert problem.message == (
        "hours node 'agent_hours': 'monday-friday' is not a day or day range like mon-fri"
    )


def test_bad_holiday_date(tmp_path: Path) -> None:
    files = write_flow(tmp_path, patch=[('["2026-01-01"]', '["2026-13-01"]')])
    problem = files.problem()
    assert problem.position == files.at('"2026-13-01"')  # the bad date itself
    assert problem.message == "hours node 'agent_hours': '2026-13-01' is not a YYYY-MM-DD date"


def test_bad_holiday_date_in_block_list_points_at_the_date(tmp_path: Path) -> None:
    block = '\n      - "2026-01-01"\n      - "2026-10-01"\n      - "2026-13-01"'
    files = write_flow(tmp_path, patch=[(' ["2026-01-01"]', block)])
    problem = files.problem()
    assert problem.position == files.at('"2026-13-01"')


# -- several problems at once ---------------------------------------------------------------


def test_all_problems_are_reported_sorted_by_position(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path,
        patch=[
            ("    queue: general\n", "    queue: genral\n"),  # late in the file
            ("  retries: 2\n", "  retries: many\n"),  # early
            ("Asia/Shanghai", "Asia/Beijing"),
            (MAIN_MENU_END, "    on_failure: agent\n    timout: 6s\n\n  ask_account:"),
            ("      frozen: frozen\n", "      frozen: frozne\n"),
        ],
        add=ORPHAN,
        catalog_patch=[('  zh: "感谢您的来电,再见。"\n', "")],
    )
    problems = files.problems()
    assert [p.position for p in problems] == [
        files.at("many"),
        files.at("timout:"),
        files.at("frozne"),
        files.at("Asia/Beijing"),
        files.at("genral"),
        files.node("old_promo"),
        files.in_catalog("goodbye:"),
    ], _listing(problems)
    assert problems == sorted(problems, key=_pos_of)


def test_problems_in_flow_and_catalog_sort_by_file_then_position(tmp_path: Path) -> None:
    files = write_flow(
        tmp_path,
        patch=[("    prompt: goodbye\n", "    prompt: good_bye\n")],
        catalog_patch=[
            ('  zh: "请输入PIN码。"\n', ""),
            ('  en: "Please enter your account number."\n', ""),
        ],
    )
    problems = files.problems()
    assert [p.position for p in problems] == [
        files.at("good_bye"),
        files.in_catalog("enter_account:"),
        files.in_catalog("enter_pin:"),
    ], _listing(problems)


def test_flow_errors_sorts_whatever_order_problems_come_in() -> None:
    a = Problem(SourcePosition("a.yaml", 3, 1), "third")
    b = Problem(SourcePosition("a.yaml", 1, 9), "second")
    c = Problem(SourcePosition("a.yaml", 1, 2), "first")
    d = Problem(SourcePosition("b.yaml", 1, 1), "other file")
    errors = FlowErrors([d, a, b, c])
    assert errors.problems == (c, b, a, d)
    assert str(errors).splitlines() == [
        "a.yaml:1:2: first",
        "a.yaml:1:9: second",
        "a.yaml:3:1: third",
        "b.yaml:1:1: other file",
    ]
