"""Phones that answer, for the agent and callback tests: SIPp as a UAS (``sipp/phone.xml``)
on the port the sandbox's ``pjsip.conf`` gives the endpoint (an agent's desk phone, or
``hotline-callbacks``, the customer's phone a callback rings); and the test's own view of
the contact center (the sandbox's database, the FastAGI server's secret).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import yaml

from ivr.app.asterisk_sandbox import Sandbox
from ivr.app.bootstrap import bootstrap
from ivr.services.contact_agents import Agent
from ivr.services.contact_center import ContactCenter

from . import sipp
from .conftest import FLOW_PATH, PROMPTS

SCENARIO = Path(__file__).with_name("sipp") / "phone.xml"


class Phone:
    """One answering SIPp, for one call; ``wait()`` gives SIPp's result."""

    def __init__(self, sandbox: Sandbox, endpoint: str, workdir: Path, talk: float = 90) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        xml = workdir / "phone.xml"
        xml.write_text(SCENARIO.read_text().replace("@TALK@", str(int(talk * 1000))))
        self.messages = workdir / "messages.log"
        self.budget = talk + 60
        port = sandbox.phones[endpoint]
        command = [
            *("sipp", "-sf", str(xml), "-i", "127.0.0.1", "-p", str(port)),
            *("-mp", str(sipp.free_port(span=4)), "-m", "1", "-nostdin"),
            *("-timeout", f"{int(self.budget)}s", "-timeout_error"),
            *("-trace_msg", "-message_file", str(self.messages)),
            *("-trace_err", "-error_file", str(workdir / "errors.log")),
        ]
        self.process = subprocess.Popen(
            command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self._listening(endpoint, port)

    def _listening(self, endpoint: str, port: int, within: float = 15.0) -> None:
        """Wait until SIPp holds its port (a fixed pause was too short on a loaded machine:
        Asterisk rang a phone not yet listening); a SIPp that exits first (its port taken
        meanwhile by another process) fails the test with what it said."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline and self.process.poll() is None:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    return  # SIPp has it
            time.sleep(0.05)
        if self.process.poll() is None:
            self.process.kill()
        said = self.process.communicate()[1][-1500:]
        raise AssertionError(f"the SIPp phone of {endpoint} is not listening on {port}: {said}")

    def rang(self) -> bool:
        return self.messages.exists() and "INVITE sip:" in self.messages.read_text(errors="replace")

    def wait(self, timeout: float | None = None) -> int:
        try:
            self.process.communicate(timeout=timeout or self.budget)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
        return self.process.returncode

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def always_open_flow(folder: Path) -> Path:
    """The hotline with the agents' opening hours every day, all day (so the tests do not
    depend on the time of day in Beijing) and its prompts found where they are."""
    flow = yaml.safe_load(FLOW_PATH.read_text())
    flow["prompts"] = str(PROMPTS / "prompts.yaml")
    for node in flow["nodes"].values():
        if node.get("type") == "hours":
            node["open"] = {"mon-sun": "00:00-24:00"}
            node["holidays"] = []
    path = folder / "callflows-open.yaml"
    path.write_text(yaml.safe_dump(flow, allow_unicode=True, sort_keys=False))
    return path


def serve_always_open(sandbox: Sandbox, folder: Path) -> Iterator[Sandbox]:
    """The sandbox's FastAGI server on the always-open flow, callbacks offered at once
    (whatever the estimate), for as long as the generator is not resumed."""
    previous = dict(sandbox.environment)
    sandbox.stop_fastagi()
    sandbox.environment |= {
        "IVR_FLOW": str(always_open_flow(folder)),
        "IVR_CALLBACK_OFFER_AFTER": "0",
        "IVR_WRAP_UP_SECONDS": "600",  # an agent in wrap-up takes no other test's call
        "IVR_LOG_LEVEL": "INFO",
    }
    sandbox.start_fastagi()
    try:
        yield sandbox
    finally:
        sandbox.stop_fastagi()
        sandbox.environment = previous
        sandbox.start_fastagi()


def contact_center(sandbox: Sandbox) -> ContactCenter:
    """The contact center on the sandbox's database, as the web console would use it (on
    the sandbox's clock)."""
    return bootstrap(replace(sandbox.settings, flow_path=FLOW_PATH), sandbox.clock).contact_center


def agent(center: ContactCenter, username: str) -> Agent:
    return next(a for a in center.agents_view() if a.username == username)


def everyone_offline(center: ContactCenter) -> None:
    """No agent takes calls (a wrap-up that runs out would count as available); one who is
    on a call stays so (``support.sign_in_busy``: callers are held in line for them)."""
    for someone in center.agents_view():
        if someone.state != "on_call":
            center.set_availability(someone.id, False)
