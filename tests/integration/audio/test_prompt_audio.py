"""Rendering prompt audio with the real espeak-ng and sox: the files are 8 kHz mono 16-bit
WAV, a second build renders nothing, a changed text re-renders only its files, a removed
prompt loses its files, ``audio_problems`` sees missing and stale audio, and ``ivr prompts
build`` prints its summary. Without the tools these tests skip, except in CI (``CI=true``),
where a missing tool is a failure."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import wave
from pathlib import Path

import pytest

from ivr.app.cli_prompts import register
from ivr.app.config import Settings
from ivr.audio import manifest
from ivr.audio.build import build
from ivr.audio.plan import catalog_recordings
from ivr.audio.problems import audio_problems, catalog_problems
from ivr.audio.render import TOOLS, ensure_dynamic
from ivr.errors import IvrError
from ivr.flow.model import Flow
from ivr.flow.prompts import Catalog

ROOT = Path(__file__).resolve().parents[3]

TEXTS = {
    "hello": {"en": "Hello, and welcome.", "zh": "您好,欢迎。"},
    "menu": {"en": "For English, press 1. 中文服务请按2。", "zh": "请在App里输入您的6位PIN码。"},
    "paid": {"en": "You paid {amount} on {date}.", "zh": "您在{date}支付了{amount}。"},
}


@pytest.fixture(scope="module")
def tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not missing:
        return
    reason = f"{' and '.join(missing)} not installed (apt-get install espeak-ng sox)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must render prompt audio: {reason}")
    pytest.skip(reason)


def catalog(**changes: dict[str, str] | None) -> Catalog:
    texts = {**TEXTS, **changes}
    return Catalog({k: v for k, v in texts.items() if v is not None})


def wav_files(root: Path) -> dict[str, int]:
    """Every WAV under root (relative path -> mtime in ns)."""
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*.wav")}


@pytest.fixture(scope="module")
def built(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small catalog, built once for the read-only checks."""
    root = tmp_path_factory.mktemp("audio") / "prompts"
    build(catalog(), ("en", "zh"), root)
    return root


def test_every_file_is_8khz_mono_16bit_and_not_empty(built: Path) -> None:
    wanted = {
        f"{lang}/{path}" for lang in ("en", "zh") for path in catalog_recordings(catalog(), lang)
    }

    assert set(wav_files(built)) == wanted
    for name in wanted:
        with wave.open(str(built / name), "rb") as audio:
            assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (
                8000,
                1,
                2,
            ), name
            assert audio.getnframes() > 800, name  # at least a tenth of a second
    assert (built / "en" / "paid.1.wav").is_file()
    assert (built / "zh" / "_fragments" / "digit_1.wav").is_file()
    assert not (built / "en" / "paid.wav").exists()


def test_a_built_catalog_has_no_problems(built: Path) -> None:
    assert catalog_problems(catalog(), ("en", "zh"), built) == []


def test_only_what_changed_is_rendered_again(tools: None, tmp_path: Path) -> None:
    root = tmp_path / "prompts"
    first = build(catalog(), ("en", "zh"), root)
    before = wav_files(root)

    again = build(catalog(), ("en", "zh"), root)
    changed = catalog(hello={"en": "Hello again.", "zh": "您好,欢迎。"})
    third = build(changed, ("en", "zh"), root)
    after = wav_files(root)

    assert (first.rendered, first.unchanged) == (len(before), 0)
    assert (again.rendered, again.unchanged, again.removed) == (0, len(before), 0)
    assert (third.rendered, third.removed) == (1, 0)
    assert [name for name in before if after[name] != before[name]] == ["en/hello.wav"]
    assert (
        manifest.read(root / "en")["hello.wav"]
        == catalog_recordings(changed, "en")["hello.wav"].digest()
    )


def test_a_removed_prompt_loses_its_files_and_foreign_files_stay(
    tools: None, tmp_path: Path
) -> None:
    root = tmp_path / "prompts"
    build(catalog(), ("en", "zh"), root)
    (root / "en" / "recorded_by_hand.wav").write_bytes(b"RIFF")

    report = build(catalog(paid=None), ("en", "zh"), root)

    assert report.removed == 4  # paid.1 and paid.2 in each language
    assert not list(root.rglob("paid*.wav"))
    assert (root / "en" / "recorded_by_hand.wav").exists()
    assert "paid.1.wav" not in manifest.read(root / "en")


def test_problems_name_missing_and_stale_files(tools: None, tmp_path: Path) -> None:
    root = tmp_path / "prompts"
    assert "missing (run ivr prompts build)" in catalog_problems(catalog(), ("en",), root)[0]
    build(catalog(), ("en", "zh"), root)
    (root / "zh" / "hello.wav").unlink()
    edited = catalog(menu={"en": "Press 1 for English.", "zh": TEXTS["menu"]["zh"]})

    problems = catalog_problems(edited, ("en", "zh"), root)

    assert problems == [
        f"{root}/en/menu.wav: stale (run ivr prompts build)",
        f"{root}/zh/hello.wav: missing (run ivr prompts build)",
    ]


def test_audio_problems_of_the_real_flow_are_relative_to_the_root(
    flow: Flow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    problems = audio_problems(flow, Path("prompts"))

    assert "prompts/en/main_menu.wav: missing (run ivr prompts build)" in problems
    assert "prompts/zh/payment_failed_summary.1.wav: missing (run ivr prompts build)" in problems
    assert len(problems) == sum(len(catalog_recordings(flow.catalog, x)) for x in flow.languages)


def test_a_free_text_value_is_rendered_once_on_demand(tools: None, tmp_path: Path) -> None:
    played = ensure_dynamic("Lucky Noodles", "en", tmp_path)
    path = tmp_path / f"{played.name}.wav"
    made = path.stat().st_mtime_ns

    again = ensure_dynamic("Lucky Noodles", "en", tmp_path)
    chinese = ensure_dynamic("幸运面馆", "zh", tmp_path)

    assert played.name.startswith("en/_dynamic/") and again == played
    assert path.stat().st_mtime_ns == made
    with wave.open(str(tmp_path / f"{chinese.name}.wav"), "rb") as audio:
        assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (8000, 1, 2)


def ivr_prompts(*argv: str) -> int:
    """``ivr prompts ...`` as ``ivr.app.cli.main`` runs it: IvrError -> message, exit 1."""
    parser = argparse.ArgumentParser(prog="ivr")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["prompts", *argv])
    settings = Settings.from_env({"IVR_FLOW": str(ROOT / "callflows.yaml")})
    try:
        code: int = args.run(args, settings)
    except IvrError as exc:
        print(f"ivr {args.command}: {exc}", file=sys.stderr)
        return 1
    return code


def test_the_command_builds_then_has_nothing_to_do(
    tools: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "prompts"

    first = ivr_prompts("build", "--lang", "en", "--root", str(root))
    said_first = capsys.readouterr()
    second = ivr_prompts("build", "--lang", "en", "--root", str(root))
    said_second = capsys.readouterr()

    assert (first, second) == (0, 0)
    assert said_first.err == ""  # not a terminal: no progress bar
    assert (
        said_first.out.startswith(f"{root}: ") and " 0 unchanged, 0 removed (en) " in said_first.out
    )
    assert said_second.out.startswith(f"{root}: 0 rendered, ")
    assert not (root / "zh").exists()


def test_the_command_refuses_a_language_the_flow_lacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert ivr_prompts("build", "--lang", "fr") == 2
    assert "--lang must be among en,zh" in capsys.readouterr().err


def test_missing_tools_are_named_with_their_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither espeak-ng nor sox on it

    code = ivr_prompts("build", "--root", str(tmp_path / "prompts"))

    err = capsys.readouterr().err
    assert code == 1
    assert "install espeak-ng (Debian package espeak-ng)" in err
    assert "install sox (Debian package sox)" in err
    assert not (tmp_path / "prompts").exists()
