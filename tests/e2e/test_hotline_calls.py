"""Calls through the controller: keys pressed on a SIP phone walk the real flow, over
FastAGI and through the per-call AGI script."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ivr.app.asterisk_sandbox import Sandbox

from .conftest import PROMPTS, ROOT, Dial
from .sipp import Press
from .support import LogWatch, call_records, seconds, wait_for_record

pytestmark = pytest.mark.asterisk
AGI_SCRIPT = ROOT / "agi_scripts" / "hotline.agi"


@pytest.fixture
def per_call_sandbox(fastagi_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox with calls routed to ``agi_scripts/hotline.agi`` for one test."""
    if not AGI_SCRIPT.exists():
        pytest.skip(f"no per-call AGI script in this version ({AGI_SCRIPT} is missing)")
    fastagi_sandbox.route_calls(AGI_SCRIPT)
    yield fastagi_sandbox
    fastagi_sandbox.route_calls(None)


def english_then_agent(sandbox: Sandbox, dial: Dial, channel: str) -> LogWatch:
    known = len(call_records(sandbox, channel))
    log = LogWatch(sandbox)
    # 1 during the language prompt (it plays for about 8 s; a key sent before the AGI's
    # first command is lost, and a per-call script on a loaded machine takes up to ~2 s
    # to start, so the key comes at 4 s); 0 once the (not interruptible) welcome has played.
    after_welcome = seconds(PROMPTS / "en" / "welcome.wav") + 1.5
    caller = dial([Press(4.0, "1"), Press(after_welcome, "0")], 100)

    # The controller holds the caller (after hours, it first offers a callback: the caller
    # id is not a number and none is typed, so that takes two tries).
    log.wait_for(r"<PJSIP/caller-\w+> Playing 'moh/hold-\d\.", timeout=90)
    sandbox.rx("channel request hangup all")
    result = caller.wait()

    assert result.ok, result.errors
    assert "en/queue_position.1" in log.text(), log.tail()
    assert "DTMF end '1' received" in log.text()
    assert "DTMF end '0' received" in log.text()
    assert "en/main_menu" in log.text(), log.tail()
    record = wait_for_record(sandbox, known, channel)
    assert record["outcome"] == "queued", record
    assert record["queue"] == "general", record
    assert record["language"] == "en", record
    return log


def test_english_then_agent_over_fastagi(fastagi_sandbox: Sandbox, dial: Dial) -> None:
    log = english_then_agent(fastagi_sandbox, dial, "fastagi")
    assert log.executed("AGI", f"agi://127.0.0.1:{fastagi_sandbox.fastagi_port}/hotline")


def test_english_then_agent_through_the_per_call_script(
    per_call_sandbox: Sandbox, dial: Dial
) -> None:
    log = english_then_agent(per_call_sandbox, dial, "agi")
    assert log.executed("AGI", str(AGI_SCRIPT)), log.tail()
