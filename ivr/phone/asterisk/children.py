"""The sandbox's child processes: started in their own session (a Ctrl-C in the terminal
reaches only the parent, which stops them in order) and ended by the kernel if the parent
dies first, waited for until ready, and stopped politely, then firmly."""

from __future__ import annotations

import ctypes
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ivr.errors import IvrError

PR_SET_PDEATHSIG = 1


class ChildError(IvrError):
    """A child process exited or never became ready; the message ends with its log's tail."""


def spawn(
    argv: Sequence[str], log: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            list(argv),
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def wait_until(
    ready: Callable[[], bool],
    process: subprocess.Popen[bytes] | None,
    what: str,
    timeout: float,
    log: Path,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ChildError(f"{what} exited with status {process.returncode}: {tail(log)}")
        if ready():
            return
        time.sleep(0.1)
    raise ChildError(f"{what} was not ready after {timeout:.0f}s: {tail(log)}")


def end(process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def listening(port: int) -> bool:
    """A TCP socket listens on 127.0.0.1:``port`` (read from /proc: no connection made)."""
    wanted = f"0100007F:{port:04X}"
    try:
        table = Path("/proc/net/tcp").read_text()
    except OSError:
        return False
    rows = (line.split() for line in table.splitlines()[1:])
    return any(cols[1] == wanted and cols[3] == "0A" for cols in rows)


def port_taken(port: int, kind: socket.SocketKind) -> bool:
    with socket.socket(socket.AF_INET, kind) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def tail(log: Path, lines: int = 8) -> str:
    try:
        kept = log.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return "(no log)"
    return " | ".join(kept) or "(empty log)"
