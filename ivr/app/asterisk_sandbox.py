"""A private, real Asterisk answering the hotline on 127.0.0.1: ``ivr sandbox`` and the
end-to-end tests.

``Sandbox`` provisions Debian's Asterisk (``provision``), writes a whole configuration tree
under a run folder and prepares the database (``asterisk_sandbox_setup``), and starts
two children: Asterisk in the foreground (``-f -n``) and the FastAGI server (``ivr
fastagi``). It is ready when Asterisk answers ``core waitfullybooted`` and ``core show
version`` and the FastAGI port listens. The FastAGI server is supervised (``supervisor``):
if it dies, it is started again and Asterisk keeps running; calls in the middle take the
dialplan's safe route. ``stop()`` stops both: Asterisk with ``core stop now``, the FastAGI
server with SIGTERM (it lets calls in progress finish).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from types import TracebackType

from ivr.app import asterisk_sandbox_setup as setup
from ivr.app.asterisk_sandbox_setup import HOST
from ivr.app.bootstrap import load_hotline
from ivr.app.config import Settings
from ivr.errors import IvrError
from ivr.flow.model import Flow
from ivr.phone.asterisk import children, config, dialplan, layout, writer
from ivr.phone.asterisk.provision import Installation, provision
from ivr.phone.asterisk.supervisor import Backoff, Supervisor
from ivr.services.clock import clock_from
from ivr.services.ports import Clock

AGENTS = writer.AGENT_ENDPOINTS


class SandboxError(IvrError):
    """The sandbox could not start or answer; the message says which part and why."""


@dataclass
class Sandbox:
    """A running private Asterisk (and FastAGI server); a context manager."""

    run_dir: Path
    settings: Settings
    sip_port: int = 5060
    fastagi_port: int = 4573
    rtp_ports: tuple[int, int] = (10000, 10999)
    with_fastagi: bool = True
    installation: Installation | None = None
    agents: dict[str, str] = field(default_factory=dict)
    #: Phones always reached at a port of 127.0.0.1 (endpoint name -> port): the tests'
    #: SIPp agent phones and callback phone (``hotline-callbacks``). Others register.
    phones: dict[str, int] = field(default_factory=dict)
    #: Run this per-call AGI script instead of FastAGI (``route_calls`` changes it later).
    agi_script: Path | None = None
    #: More settings for the controller's processes (IVR_... variables); a restarted
    #: FastAGI server gets them as they are then.
    environment: dict[str, str] = field(default_factory=dict)
    #: Pauses before the FastAGI server is started again after it died.
    restart_backoff: Backoff = field(default_factory=Backoff)
    _options: config.Options | None = field(default=None, init=False, repr=False)
    _asterisk: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _fastagi: Supervisor | None = field(default=None, init=False, repr=False)

    @cached_property
    def clock(self) -> Clock:
        """The sandbox's clock (running from ``settings.clock_start``, else the real time);
        each child it starts begins its own clock at this one's current reading."""
        return clock_from(self.settings.clock_start)

    @property
    def run(self) -> layout.RunFolder:
        return layout.RunFolder(self.run_dir.resolve())

    @property
    def conf(self) -> Path:
        return self.run.etc / "asterisk.conf"

    @property
    def sip_uri(self) -> str:
        return f"sip:100@{HOST}:{self.sip_port}"

    def start(self) -> Sandbox:
        installation = self.installation = self.installation or provision()
        self._check_free()
        self.write_config(installation, load_hotline(self.settings.flow_path))
        if self.with_fastagi or self.agi_script:
            self.prepare_database()
        argv = installation.command("-C", str(self.conf), "-f", "-n", "-vvv")
        # A per-call AGI script inherits Asterisk's environment: these are its settings.
        env = os.environ | self._ivr_environment()
        self._asterisk = children.spawn(argv, self.run / "log" / "console.log", env)
        try:
            if self.with_fastagi:
                self.start_fastagi()
            children.wait_until(
                self._booted, self._asterisk, "Asterisk", 30, self.run / "log" / "console.log"
            )
        except BaseException as exc:
            self.stop()
            if isinstance(exc, children.ChildError):
                raise SandboxError(str(exc)) from exc
            raise
        return self

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def write_config(self, installation: Installation, flow: Flow) -> None:
        self.agents = self.agents or {name: secrets.token_hex(6) for name in AGENTS}
        agi = f"{HOST}:{self.fastagi_port}"
        contacts = {name: f"sip:{name}@{HOST}:{port}" for name, port in self.phones.items()}
        options = writer.options_for(
            flow, agi, False, self.sip_port, self.agents, self.run / "moh", contacts
        )
        self._options = options = setup.routed(options, self.agi_script, self.fastagi_port)
        setup.write_tree(self.run, installation, flow, options, self.rtp_ports)

    def route_calls(self, agi_script: Path | None) -> None:
        """Send the next calls to ``agi_script`` (run per call) or, with None, to FastAGI."""
        if self._options is None:
            raise SandboxError("the sandbox has not been started")
        self.agi_script = agi_script
        self._options = setup.routed(self._options, agi_script, self.fastagi_port)
        writer.write_files(
            self.run.etc, {"extensions.conf": dialplan.extensions_conf(self._options)}
        )
        self.rx("dialplan reload")

    def prepare_database(self) -> None:
        """The schema and the demo accounts (both idempotent)."""
        setup.prepare_database(self.settings, self.clock)

    def rx(self, command: str, timeout: float = 10) -> str:
        """What Asterisk's console answers to ``command`` (``asterisk -rx``)."""
        if self.installation is None:
            raise SandboxError("the sandbox has not been started")
        argv = self.installation.command("-C", str(self.conf), "-rx", command)
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            said = (result.stderr or result.stdout).strip()
            raise SandboxError(f"asterisk -rx {command!r}: {said}")
        return result.stdout

    def log_text(self) -> str:
        """Asterisk's full log (``log/full``) so far."""
        try:
            return self.run.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    @property
    def fastagi_running(self) -> bool:
        return self._fastagi is not None and self._fastagi.running

    @property
    def fastagi(self) -> Supervisor | None:
        """The FastAGI server's supervisor (its ``pid``, its ``restarts``), once started."""
        return self._fastagi

    def start_fastagi(self) -> None:
        """Start the FastAGI server (if it is not running), supervised: it is started
        again whenever it dies, until ``stop_fastagi()``."""
        if self._fastagi is not None:
            if self._fastagi.running:
                return
            self.stop_fastagi()
        log = self.run / "log" / "fastagi.log"
        ready = lambda: children.listening(self.fastagi_port)  # noqa: E731
        supervisor = Supervisor(
            "the FastAGI server", self._spawn_fastagi, ready, log, self.restart_backoff
        )
        supervisor.start()
        self._fastagi = supervisor

    def _spawn_fastagi(self) -> subprocess.Popen[bytes]:
        env = os.environ | self._ivr_environment()
        listen = f"{HOST}:{self.fastagi_port}"
        argv = [sys.executable, "-m", "ivr.app.cli", "fastagi", "--listen", listen]
        return children.spawn(argv, self.run / "log" / "fastagi.log", env)

    def stop_fastagi(self, timeout: float = 15) -> None:
        if self._fastagi is not None:
            self._fastagi.stop(timeout)
        self._fastagi = None

    def stop(self) -> None:
        """Stop Asterisk and the FastAGI server; safe to call twice."""
        if self._asterisk is not None and self._asterisk.poll() is None:
            try:
                self.rx("core stop now", timeout=5)
                self._asterisk.wait(timeout=10)
            except (SandboxError, subprocess.TimeoutExpired):
                pass
        children.end(self._asterisk, 5)
        self._asterisk = None
        self.stop_fastagi()

    def stopped(self) -> list[str]:
        """What has stopped on its own (empty while everything runs); not the FastAGI
        server, which its supervisor starts again."""
        return [] if self._asterisk and self._asterisk.poll() is None else ["Asterisk"]

    @property
    def spool(self) -> Path:
        """Asterisk's outgoing spool: where the controller writes callback call files."""
        return self.run / "spool" / "outgoing"

    def _ivr_environment(self) -> dict[str, str]:
        return setup.child_environment(self.settings, self.clock, self.spool, self.environment)

    def _check_free(self) -> None:
        if self.run.control_socket.exists():
            try:
                self.rx("core show version", timeout=5)
            except (SandboxError, subprocess.TimeoutExpired):
                pass  # a stale socket: start() removes it
            else:
                raise SandboxError(f"an Asterisk already runs from {self.run_dir}: stop it first")
        if children.port_taken(self.sip_port, socket.SOCK_DGRAM):
            raise SandboxError(f"UDP port {HOST}:{self.sip_port} is in use (choose --sip-port)")
        if self.with_fastagi and children.port_taken(self.fastagi_port, socket.SOCK_STREAM):
            raise SandboxError(f"TCP port {HOST}:{self.fastagi_port} is in use (--fastagi-port)")

    def _booted(self) -> bool:
        try:
            self.rx("core waitfullybooted", timeout=20)
            return "Asterisk" in self.rx("core show version", timeout=5)
        except (SandboxError, subprocess.TimeoutExpired):
            return False


def for_tests(
    run_dir: Path,
    settings: Settings,
    sip_port: int,
    fastagi_port: int,
    phones: dict[str, int] | None = None,
) -> Sandbox:
    """A sandbox on the given ports, with RTP on the 96 ports after the SIP port, its own
    SQLite database in the run folder and its own secret key. ``phones`` (endpoint ->
    port) are where the test's SIPp phones answer."""
    database = f"sqlite:///{run_dir.resolve() / 'ivr.sqlite3'}"
    settings = replace(settings, database_url=database, secret_key=secrets.token_hex(16))
    rtp = (sip_port + 2, sip_port + 98)
    return Sandbox(run_dir, settings, sip_port, fastagi_port, rtp, phones=dict(phones or {}))
