"""Reloading callflows.yaml: a good change goes live, a broken one is refused and logged."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from ivr.bootstrap import load_hotline
from ivr.channels.reload import FlowReloader
from ivr.flow.engine import Engine
from ivr.flow.model import Flow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def flow_copy(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "callflows.yaml", tmp_path / "callflows.yaml")
    (tmp_path / "prompts").mkdir()
    shutil.copy(ROOT / "prompts" / "prompts.yaml", tmp_path / "prompts" / "prompts.yaml")
    return tmp_path / "callflows.yaml"


def touch_later(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_a_good_change_goes_live(flow_copy: Path) -> None:
    installed: list[Flow] = []
    reloader = FlowReloader(load_hotline(flow_copy), load_hotline, lambda f, e: installed.append(f))
    assert reloader.check() is False  # nothing changed
    text = flow_copy.read_text(encoding="utf-8").replace("timeout: 6s", "timeout: 7s")
    touch_later(flow_copy, text)
    assert reloader.check() is True
    assert installed[0].nodes["main_menu"].timeout == 7.0  # type: ignore[attr-defined]
    assert reloader.check() is False  # once only


def test_a_broken_change_is_refused_and_logged_with_its_position(
    flow_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    installed: list[Engine] = []
    reloader = FlowReloader(load_hotline(flow_copy), load_hotline, lambda f, e: installed.append(e))
    text = flow_copy.read_text(encoding="utf-8").replace("next: main_menu", "next: main_menuu", 1)
    touch_later(flow_copy, text)
    with caplog.at_level(logging.ERROR):
        assert reloader.check() is False
    assert installed == []
    assert "refused; the previous flow keeps serving" in caplog.text
    assert f"{flow_copy}:" in caplog.text and "main_menuu" in caplog.text


def test_a_catalog_change_is_seen_too(flow_copy: Path) -> None:
    installed: list[Flow] = []
    reloader = FlowReloader(load_hotline(flow_copy), load_hotline, lambda f, e: installed.append(f))
    catalog = flow_copy.parent / "prompts" / "prompts.yaml"
    touch_later(catalog, catalog.read_text(encoding="utf-8").replace("Goodbye.", "Bye now."))
    assert reloader.check() is True
    assert "Bye now." in installed[0].catalog.texts["goodbye"]["en"]
