"""Reloading callflows.yaml: a good change goes live, a broken one is refused and logged."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from pathlib import Path

import pytest
from yaml_bombs import alias_bomb, run_caged

from ivr.app.bootstrap import load_hotline
from ivr.app.reloader import FlowReloader
from ivr.flow.engine import Engine
from ivr.flow.model import Flow

ROOT = Path(__file__).resolve().parents[3]


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


# Run caged (yaml_bombs.run_caged: 1 GiB, 60 s): before the bounds, this reload took gigabytes.
RELOAD_A_BOMB = """\
import json, logging, os, resource, sys, tracemalloc
from pathlib import Path
from ivr.app.bootstrap import load_hotline
from ivr.app.reloader import FlowReloader

flow_path, bomb, good = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
logged = []
class Keep(logging.Handler):
    def emit(self, record):
        logged.append(record.getMessage())
logging.getLogger("ivr.app.reloader").addHandler(Keep())
installed = []
reloader = FlowReloader(load_hotline(flow_path), load_hotline, lambda f, e: installed.append(f))

def write(source):
    before = flow_path.stat().st_mtime_ns
    flow_path.write_bytes(source.read_bytes())
    os.utime(flow_path, ns=(before + 10**9, before + 10**9))

write(bomb)
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
tracemalloc.start()
bomb_went_live = reloader.check()
traced_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
installed_after_bomb = len(installed)
write(good)
print(json.dumps({
    "bomb_went_live": bomb_went_live, "installed_after_bomb": installed_after_bomb,
    "traced_peak": traced_peak, "rss_growth": rss_growth, "logged": logged,
    "good_went_live": reloader.check(),
}))
"""


def test_a_yaml_bomb_is_refused_in_one_log_line_with_flat_memory(
    flow_copy: Path, tmp_path: Path
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        flow_copy.read_text(encoding="utf-8").replace("timeout: 6s", "timeout: 7s"),
        encoding="utf-8",
    )
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(flow_copy.read_text(encoding="utf-8") + alias_bomb(), encoding="utf-8")

    done = run_caged([sys.executable, "-c", RELOAD_A_BOMB, str(flow_copy), str(bomb), str(good)])

    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["bomb_went_live"] is False and result["installed_after_bomb"] == 0
    assert result["traced_peak"] < 50 * 1024**2
    assert result["rss_growth"] < 50 * 1024**2
    refusal, *later = result["logged"]
    assert "\n" not in refusal
    assert refusal.startswith(f"{flow_copy} changed but was refused; the previous flow keeps")
    assert f"{flow_copy}:" in refusal and "aliases would expand to more than" in refusal
    assert result["good_went_live"] is True  # the reloader is still watching
