"""With the controller down, a caller still hears the apology and reaches the general queue."""

from __future__ import annotations

import pytest

from ivr.app.asterisk_sandbox import Sandbox

from .conftest import Dial
from .support import LogWatch

pytestmark = pytest.mark.asterisk


def test_fastagi_server_down_takes_the_safe_route(
    sandbox: Sandbox, dial: Dial, prompt_audio: str | None
) -> None:
    restart = sandbox.fastagi_running
    sandbox.stop_fastagi()
    try:
        log = LogWatch(sandbox)
        caller = dial([], 30)
        log.wait_for(r'Queue\("PJSIP/caller-\w+", "hotline-general"\)')
        sandbox.rx("channel request hangup all")
        result = caller.wait()
    finally:
        if restart:
            sandbox.start_fastagi()

    assert result.ok, result.errors
    assert result.hung_up_by == "hotline"
    agi = f"agi://127.0.0.1:{sandbox.fastagi_port}/hotline"
    assert log.executed("AGI", agi), log.tail()
    assert "FastAGI failed" in log.text(), log.tail()
    assert log.executed("NoOp", "IVR AGISTATUS=FAILURE IVR_OUTCOME="), log.tail()
    assert "IVR safe route for PJSIP/caller-" in log.text()
    assert log.executed("Playback", "en/system_error"), log.tail()
    if prompt_audio is None:  # rendered: the caller hears it
        assert "Playing 'en/system_error.slin'" in log.text(), log.tail()
        assert "Playback failed" not in log.text(), log.tail()
    assert log.executed("Queue", "hotline-general"), log.tail()
    assert "Started music on hold, class 'hotline'" in log.text(), log.tail()
