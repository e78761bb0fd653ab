"""``ivr validate``: exit 0 with a one-line summary for a good flow; exit 1 with every
problem as FILE:LINE:COL: message on stderr, and a count, for a bad one."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from yaml_bombs import alias_bomb, deep_list, deep_mapping, run_caged

from ivr.app.cli import main

ROOT = Path(__file__).resolve().parents[3]
REAL_FLOW = ROOT / "callflows.yaml"
REAL_CATALOG = ROOT / "prompts" / "prompts.yaml"

# The wording after the node count may change; what matters is one line saying OK.
SUMMARY = re.compile(r"(?P<path>\S+): OK: (?P<nodes>\d+) nodes, [^\n]*start 'choose_language'")

DANGLING = ("    next: main_menu\n", "    next: main_meun\n")
ORPHAN = "\n  old_promo:\n    type: say\n    prompt: goodbye\n    next: goodbye\n"
NO_CHINESE_GOODBYE = ('  zh: "感谢您的来电，再见。"\n', "")


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} must occur exactly once"
    return text.replace(old, new)


def copy_real_flow(
    directory: Path,
    flow_patch: tuple[str, str] | None = None,
    add: str = "",
    catalog_patch: tuple[str, str] | None = None,
) -> tuple[Path, str, Path, str]:
    """Copy callflows.yaml and prompts/prompts.yaml into ``directory``, patched; return both
    paths and texts."""
    flow_text = REAL_FLOW.read_text(encoding="utf-8")
    if flow_patch:
        flow_text = _replace_once(flow_text, *flow_patch)
    flow_text += add
    catalog_text = REAL_CATALOG.read_text(encoding="utf-8")
    if catalog_patch:
        catalog_text = _replace_once(catalog_text, *catalog_patch)
    flow = directory / "callflows.yaml"
    flow.write_text(flow_text, encoding="utf-8")
    catalog = directory / "prompts" / "prompts.yaml"
    catalog.parent.mkdir()
    catalog.write_text(catalog_text, encoding="utf-8")
    return flow, flow_text, catalog, catalog_text


def line_of(text: str, line: str) -> int:
    """The 1-based number of the one line of ``text`` that equals ``line``."""
    lines = text.splitlines()
    assert lines.count(line) == 1, f"{line!r} must be one whole line of the text"
    return lines.index(line) + 1


def only_audio_warnings(err: str) -> bool:
    """Nothing on stderr but warnings about prompt audio, which are there until
    `ivr prompts build` has run (the e2e tests run it; a fresh checkout has none)."""
    return all(line.endswith("(run ivr prompts build)") for line in err.splitlines())


def test_real_flow_is_ok_with_a_one_line_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(REAL_FLOW)]) == 0
    out, err = capsys.readouterr()
    assert only_audio_warnings(err), err
    assert out.endswith("\n") and out.count("\n") == 1
    summary = SUMMARY.fullmatch(out.rstrip("\n"))
    assert summary, out
    assert summary["path"] == str(REAL_FLOW)
    text = REAL_FLOW.read_text(encoding="utf-8")
    surveys = text.count("    type: survey")  # each adds its four parts (survey_parts.PARTS)
    assert int(summary["nodes"]) == text.count("    type: ") + 4 * surveys


def test_default_flow_is_callflows_yaml_in_the_current_directory(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("IVR_FLOW", raising=False)
    assert main(["validate"]) == 0
    out, err = capsys.readouterr()
    assert only_audio_warnings(err), err
    assert out.startswith("callflows.yaml: OK: ")


def test_default_flow_comes_from_ivr_flow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    flow, *_ = copy_real_flow(tmp_path, add=ORPHAN)
    monkeypatch.setenv("IVR_FLOW", str(flow))
    assert main(["validate"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[-1] == "1 problem found"
    assert "node 'old_promo' is never reached from the start" in err


def test_three_mistakes_exit_1_listing_each_with_file_line_col(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flow, flow_text, catalog, catalog_text = copy_real_flow(
        tmp_path, flow_patch=DANGLING, add=ORPHAN, catalog_patch=NO_CHINESE_GOODBYE
    )
    assert main(["validate", str(flow)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    dangling = line_of(flow_text, "    next: main_meun")
    orphan = line_of(flow_text, "  old_promo:") + 1
    goodbye = line_of(catalog_text, "goodbye:")
    assert err.splitlines() == [
        f"{flow}:{dangling}:11: node 'welcome': next goes to 'main_meun', which is not a node "
        "(did you mean 'main_menu'?)",
        f"{flow}:{orphan}:5: node 'old_promo' is never reached from the start",
        f"{catalog}:{goodbye}:1: prompt 'goodbye' has no 'zh' text",
        "3 problems found",
    ]


def test_every_problem_line_has_file_line_col(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flow, *_ = copy_real_flow(
        tmp_path, flow_patch=DANGLING, add=ORPHAN, catalog_patch=NO_CHINESE_GOODBYE
    )
    main(["validate", str(flow)])
    *problems, count = capsys.readouterr().err.splitlines()
    assert count == f"{len(problems)} problems found"
    for line in problems:
        assert re.fullmatch(rf"{re.escape(str(tmp_path))}/\S+\.yaml:\d+:\d+: \S.*", line), line


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "callflows.yaml"
    assert main(["validate", str(missing)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"{missing}:1:1: cannot read file: No such file or directory",
        "1 problem found",
        f"hint: there is no flow file {missing}; name yours with IVR_FLOW=PATH (or as the "
        "command's argument), or run 'ivr init' to write the default hotline here",
    ]


def test_yaml_syntax_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow, flow_text, *_ = copy_real_flow(
        tmp_path, flow_patch=('      "*": repeat\n', "      *: repeat\n")
    )
    assert main(["validate", str(flow)]) == 1
    out, err = capsys.readouterr()
    star = line_of(flow_text, "      *: repeat")
    first, count = err.splitlines()
    assert first.startswith(f"{flow}:{star}:8: YAML syntax: ")
    assert count == "1 problem found"


def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = tmp_path / "callflows.yaml"
    flow.write_text("# nothing here yet\n", encoding="utf-8")
    assert main(["validate", str(flow)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{flow}:1:1: the file is empty",
        "1 problem found",
    ]


def test_ivr_validate_as_a_command_exits_with_the_status(tmp_path: Path) -> None:
    flow, *_ = copy_real_flow(tmp_path, flow_patch=DANGLING)
    command = [sys.executable, "-m", "ivr.app.cli", "validate"]
    good = subprocess.run([*command, str(REAL_FLOW)], capture_output=True, text=True, cwd=ROOT)
    bad = subprocess.run([*command, str(flow)], capture_output=True, text=True, cwd=ROOT)
    assert good.returncode == 0 and only_audio_warnings(good.stderr), good.stderr
    assert SUMMARY.fullmatch(good.stdout.rstrip("\n"))
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr.splitlines()[-1] == "1 problem found"


# -- YAML bombs: run caged (1 GiB, 60 s) so that a regression cannot eat the machine ------

VALIDATE = [sys.executable, "-m", "ivr.app.cli", "validate"]


BOMBS = {
    "alias": alias_bomb(),
    "list": f"deep: {deep_list()}\n",
    "map": f"deep: {deep_mapping()}\n",
}


@pytest.mark.parametrize("bomb", BOMBS.values(), ids=BOMBS.keys())
def test_a_yaml_bomb_is_one_short_problem_and_exit_1(tmp_path: Path, bomb: str) -> None:
    flow, *_ = copy_real_flow(tmp_path, add=bomb)
    done = run_caged([*VALIDATE, str(flow)], cwd=ROOT)

    assert (done.returncode, done.stdout) == (1, "")
    assert len(done.stderr) < 1024
    assert "Traceback" not in done.stderr and "RecursionError" not in done.stderr
    problem, count = done.stderr.splitlines()
    assert re.fullmatch(rf"{re.escape(str(flow))}:\d+:\d+: (aliases|nested) .*", problem)
    assert count == "1 problem found"


def test_a_file_that_never_ends_is_refused_at_the_size_limit() -> None:
    done = run_caged([*VALIDATE, "/dev/zero"], cwd=ROOT)

    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "/dev/zero:1:1: the file is over the limit of 1048576 bytes (1 MiB)",
        "1 problem found",
    ]
