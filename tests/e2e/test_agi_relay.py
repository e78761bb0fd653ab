"""A call through the per-call AGI script while the controller runs: the script relays it to
the sandbox's FastAGI server (``ivr.phone.asterisk.agi_relay``), which runs it; a real
Asterisk starts the script, sends its environment and the caller's keys, and the caller
hangs up while on hold (SIGHUP, relayed as a ``HANGUP`` line)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.app.asterisk_sandbox import Sandbox

from .conftest import Dial
from .test_hotline_calls import AGI_SCRIPT, english_then_agent

pytestmark = pytest.mark.asterisk


@pytest.fixture
def relaying_sandbox(fastagi_sandbox: Sandbox, tmp_path: Path) -> Iterator[tuple[Sandbox, Path]]:
    """Calls routed to ``hotline.agi``, told where the sandbox's controller listens (a
    deployment sets ``IVR_FASTAGI_PORT`` where Asterisk starts, or keeps 4573)."""
    if not AGI_SCRIPT.exists():
        pytest.skip(f"no per-call AGI script in this version ({AGI_SCRIPT} is missing)")
    script = tmp_path / "relaying.agi"
    port = fastagi_sandbox.fastagi_port
    script.write_text(f'#!/bin/sh\nIVR_FASTAGI_PORT={port} exec "{AGI_SCRIPT}" "$@"\n')
    script.chmod(0o755)
    fastagi_sandbox.route_calls(script)
    yield fastagi_sandbox, script
    fastagi_sandbox.route_calls(None)


def test_english_then_agent_through_the_per_call_script_relayed_to_the_controller(
    relaying_sandbox: tuple[Sandbox, Path], dial: Dial
) -> None:
    sandbox, script = relaying_sandbox
    log = english_then_agent(sandbox, dial, "fastagi")  # the controller's call record
    assert log.executed("AGI", str(script)), log.tail()
