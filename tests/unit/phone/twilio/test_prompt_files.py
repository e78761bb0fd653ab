"""Which rendered prompts exist (``ivr.phone.twilio.prompt_files``): read from a listing of
the folder, listed again when it is old or the folder changes, bounded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ivr.phone.twilio import prompt_files
from ivr.phone.twilio.prompt_files import PromptFiles


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def render(root: Path, name: str) -> None:
    path = root / f"{name}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF")


def test_a_listing_answers_until_it_is_old(tmp_path: Path) -> None:
    render(tmp_path, "en/menu")
    render(tmp_path, "zh/menu")
    (tmp_path / "en" / "notes.txt").write_text("not a prompt")
    ticks = Ticks()
    files = PromptFiles(lambda: str(tmp_path), fresh_for=5, clock=ticks)
    assert files.has("en/menu") and files.has("zh/menu")
    assert not files.has("en/notes") and not files.has("en/goodbye")

    render(tmp_path, "en/goodbye")  # rendered while the server runs
    (tmp_path / "zh" / "menu.wav").unlink()
    ticks.now += 4.9
    assert not files.has("en/goodbye") and files.has("zh/menu")  # the listing, not the disk
    ticks.now += 0.2
    assert files.has("en/goodbye") and not files.has("zh/menu")


def test_another_folder_is_listed_at_once(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    render(first, "en/menu")
    render(second, "en/other")
    root = [str(first)]
    files = PromptFiles(lambda: root[0], clock=Ticks())
    assert files.has("en/menu")
    root[0] = str(second)  # the flow was reloaded from elsewhere
    assert files.has("en/other") and not files.has("en/menu")


def test_no_folder_is_no_prompt(tmp_path: Path) -> None:
    files = PromptFiles(lambda: str(tmp_path / "never-rendered"), clock=Ticks())
    assert not files.has("en/menu")


def test_past_the_bound_the_rest_are_asked_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prompt_files, "MOST", 3)
    for n in range(6):
        render(tmp_path, f"en/p{n}")
    files = PromptFiles(lambda: str(tmp_path), clock=Ticks())
    assert all(files.has(f"en/p{n}") for n in range(6))
    assert not files.has("en/p9")


def test_a_link_that_loops_ends_the_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prompt_files, "MOST", 50)
    render(tmp_path, "en/menu")
    os.symlink(tmp_path / "en", tmp_path / "en" / "again")  # en/again/again/... for ever
    files = PromptFiles(lambda: str(tmp_path), clock=Ticks())
    assert files.has("en/menu") and files.has("en/again/menu")
    assert not files.has("en/missing")
