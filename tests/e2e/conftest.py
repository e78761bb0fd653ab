"""End-to-end tests: real SIP calls (SIPp, RFC 2833 DTMF) into a real Asterisk 22 running the
hotline (``ivr.app.asterisk_sandbox``), checked against Asterisk's own log and the database.

One sandbox serves the whole session, on free ports of 127.0.0.1, with its own run folder
and SQLite database, with its FastAGI server.
Missing prerequisites (SIPp, the Asterisk cache, which ``scripts/install-test-deps`` installs
as root) skip these tests with a one-line reason; in CI (``CI=true``) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import pytest
from start_date import OPEN_TIME

from ivr.app.asterisk_prompts import build_prompts
from ivr.app.asterisk_sandbox import Sandbox, SandboxError, for_tests
from ivr.app.config import Settings
from ivr.phone.asterisk.provision import ProvisionError, provision
from ivr.phone.asterisk.writer import AGENT_ENDPOINTS

from . import sipp
from .support import sign_in_busy

ROOT = Path(__file__).resolve().parents[2]
FLOW_PATH = ROOT / "callflows.yaml"
PROMPTS = ROOT / "prompts"

Dial = Callable[[Sequence[sipp.Press], float], sipp.Caller]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "asterisk: end-to-end calls into a real Asterisk (SIPp)")


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI runs the Asterisk tests: scripts/install-test-deps)", False)
    pytest.skip(reason)


def start_sandbox(
    run_dir: Path,
    phones: dict[str, int],
    environment: dict[str, str] | None = None,
    flow_path: Path = FLOW_PATH,
) -> Sandbox:
    """A started sandbox with its FastAGI server, on free ports, its database in ``run_dir``;
    ``phones``: where SIPp phones answer for these endpoints (the others register)."""
    if shutil.which("sipp") is None:
        unavailable("SIPp is not installed (scripts/install-test-deps installs it, as root)")
    try:
        installation = provision()
    except ProvisionError as exc:
        unavailable(f"no Asterisk to test against: {exc}")
    # The sandbox's clock starts at the suite's chosen date; its children (FastAGI, the
    # per-call scripts) start theirs at its reading.
    settings = Settings(
        flow_path=flow_path, database_url="", log_level="INFO", clock_start=OPEN_TIME
    )
    sip, fastagi = sipp.free_port(span=100), sipp.free_port(socket.SOCK_STREAM)
    box = for_tests(run_dir, settings, sip, fastagi, phones)
    box = replace(
        box, installation=installation, with_fastagi=True, environment=dict(environment or {})
    )
    try:
        box.start()
    except SandboxError as exc:
        pytest.fail(f"the sandbox did not start: {exc}", False)
    return box


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    # Where the SIPp agent phones and the callback phone of test_agents/test_callbacks answer.
    phones = {name: sipp.free_port() for name in (*AGENT_ENDPOINTS, "hotline-callbacks")}
    box = start_sandbox(tmp_path_factory.mktemp("sandbox"), phones)
    sign_in_busy(box)  # callers wait in line for a person (nobody signed in: a callback offer)
    yield box
    box.stop()


@pytest.fixture(scope="session")
def prompt_audio() -> str | None:
    """Render the prompts (what changed); why they cannot be, or None."""
    problem = build_prompts(Settings(flow_path=FLOW_PATH, database_url="", log_level="INFO"))
    if problem is None and not (PROMPTS / "en" / "main_menu.wav").exists():
        problem = f"no {PROMPTS / 'en' / 'main_menu.wav'} after ivr prompts build"
    return problem


@pytest.fixture
def fastagi_sandbox(sandbox: Sandbox, prompt_audio: str | None) -> Sandbox:
    """The sandbox with its FastAGI server running and the prompts rendered."""
    if prompt_audio:
        unavailable(f"the hotline would be silent: {prompt_audio}")
    sandbox.start_fastagi()
    return sandbox


@pytest.fixture
def dial(sandbox: Sandbox, tmp_path: Path) -> Iterator[Dial]:
    """Start a SIPp call to the hotline; any call still up at the end is hung up."""
    callers: list[sipp.Caller] = []

    def start(presses: Sequence[sipp.Press], hold: float) -> sipp.Caller:
        caller = sipp.start(sandbox.sip_port, presses, hold, tmp_path / f"call{len(callers)}")
        callers.append(caller)
        return caller

    yield start
    for caller in callers:
        if caller.process.poll() is None:
            sandbox.rx("channel request hangup all")
            caller.wait()


# The agent and callback tests' calls, made at once (a session fixture; see the module).
from .contact_calls import contact_calls  # noqa: E402, F401
