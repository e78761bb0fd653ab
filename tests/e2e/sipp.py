"""A real SIP caller: SIPp runs ``sipp/caller.xml`` with keys pressed as RFC 2833 DTMF.

``Press(wait, keys)`` waits ``wait`` seconds (after the previous keys were sent), then sends
``keys`` (digits, ``*``, ``#``; see ``dtmf``). While it waits, a BYE from the hotline ends the
call cleanly; after the last key it holds up to ``hold`` seconds and then hangs up itself.
"""

from __future__ import annotations

import random
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import dtmf

SCENARIO = Path(__file__).with_name("sipp") / "caller.xml"
#: Spans of ports start at or above this (and below the ephemeral range).
SPAN_PORTS_FROM = 10000
#: What SIPp writes to its error file on every good call.
SIPP_CHATTER = (
    "receive timeout on message",
    "The following events occurred",
    "In pcap",
    "max pkt length",
    "base port",
    "Resolving remote host",
    "There were more errors",
)


@dataclass(frozen=True)
class Press:
    wait: float
    keys: str


@dataclass(frozen=True)
class CallResult:
    returncode: int
    hung_up_by: str  # "hotline" or "caller"
    seconds: float
    messages: str
    errors: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def scenario(presses: Sequence[Press], hold: float, folder: Path, caller: str = "e2e") -> str:
    """The caller scenario's XML with these key presses (their pcap files go to ``folder``)."""
    steps: list[str] = []
    clock = dtmf.RtpClock()
    playing = 0.0  # SIPp plays a file in the background: the next wait starts after it
    for number, press in enumerate(presses, 1):
        recording = folder / f"press{number}.pcap"
        clock.advance(press.wait)
        recording.write_bytes(dtmf.pcap(press.keys, clock))
        steps += [
            _wait_for_bye(playing + press.wait, f"press{number}"),
            f'<label id="press{number}"/>',
            f'<nop><action><exec play_pcap_audio="{recording}"/></action></nop>',
        ]
        playing = dtmf.group_seconds(press.keys)
    steps.append(_wait_for_bye(playing + hold, "hang_up"))
    text = SCENARIO.read_text()
    return text.replace("<!-- KEYS -->", "\n  ".join(steps)).replace("@CALLER@", caller)


def _wait_for_bye(seconds: float, then: str) -> str:
    milliseconds = max(1, int(seconds * 1000))
    return f'<recv request="BYE" timeout="{milliseconds}" ontimeout="{then}" next="hung_up"/>'


def free_port(kind: int = socket.SOCK_DGRAM, span: int = 1) -> int:
    """A port on 127.0.0.1 free for UDP (and TCP) with ``span - 1`` free ports after it.
    A span (the sandbox's SIP and RTP ports) is looked for below the kernel's ephemeral
    range: inside it, the suite's own loopback connections (PostgreSQL, FastAGI, HTTP)
    leave hundreds of ports in TIME_WAIT, so 100 free ones in a row can be hard to find."""
    for _ in range(200):
        if span == 1:
            with socket.socket(socket.AF_INET, kind) as probe:
                probe.bind(("127.0.0.1", 0))
                port = int(probe.getsockname()[1])
        else:
            below = max(_ephemeral_low() - span, SPAN_PORTS_FROM + 2 * span)
            port = 2 * random.randrange(SPAN_PORTS_FROM // 2, below // 2)
        if all(_free(candidate) for candidate in range(port, port + span)):
            return port
    raise RuntimeError(f"no {span} free port(s) in a row on 127.0.0.1")


def _ephemeral_low() -> int:
    """The first port of the kernel's ephemeral range (Linux; 32768 elsewhere)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _free(port: int) -> bool:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


class Caller:
    """A SIPp call in progress (``start``); ``wait()`` gives its result."""

    def __init__(self, process: subprocess.Popen[str], workdir: Path, budget: float) -> None:
        self.process = process
        self.workdir = workdir
        self.budget = budget
        self.started = time.monotonic()

    def wait(self) -> CallResult:
        try:
            stdout, stderr = self.process.communicate(timeout=self.budget + 10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            stdout, stderr = self.process.communicate()
        took = time.monotonic() - self.started
        messages = _read(self.workdir / "messages.log")
        errors = [
            line
            for line in (_read(self.workdir / "errors.log") + stderr).splitlines()
            if line.strip() and not any(chatter in line for chatter in SIPP_CHATTER)
        ]
        return CallResult(
            returncode=self.process.returncode,
            hung_up_by="hotline" if _received_bye(messages) else "caller",
            seconds=took,
            messages=messages,
            errors="\n".join(errors),
        )


def start(
    sip_port: int,
    presses: Sequence[Press],
    hold: float,
    workdir: Path,
    caller: str = "e2e",
    exten: str = "100",
) -> Caller:
    """Call ``exten`` at 127.0.0.1:``sip_port``: press the keys, hold, hang up."""
    workdir.mkdir(parents=True, exist_ok=True)
    xml = workdir / "caller.xml"
    xml.write_text(scenario(presses, hold, workdir, caller))
    messages, errors = workdir / "messages.log", workdir / "errors.log"
    for old in (messages, errors):
        old.unlink(missing_ok=True)
    budget = sum(p.wait + dtmf.group_seconds(p.keys) for p in presses) + hold + 30
    command = [
        "sipp",
        f"127.0.0.1:{sip_port}",
        "-sf",
        str(xml),
        "-s",
        exten,
        "-i",
        "127.0.0.1",
        "-p",
        str(free_port()),
        "-mp",
        str(free_port(span=4)),
        "-m",
        "1",
        "-l",
        "1",
        "-nostdin",
        "-timeout",
        f"{int(budget)}s",
        "-timeout_error",
        "-trace_msg",
        "-message_file",
        str(messages),
        "-trace_err",
        "-error_file",
        str(errors),
    ]
    process = subprocess.Popen(
        command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return Caller(process, workdir, budget)


def call(
    sip_port: int, presses: Sequence[Press], hold: float, workdir: Path, caller: str = "e2e"
) -> CallResult:
    """``start`` and ``wait``."""
    return start(sip_port, presses, hold, workdir, caller).wait()


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _received_bye(trace: str) -> bool:
    for block in trace.split("----------------------------------------------- ")[1:]:
        header, _, body = block.partition("\n\n")
        if "message received" in header and body.lstrip().startswith("BYE "):
            return True
    return False
