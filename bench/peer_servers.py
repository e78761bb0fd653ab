"""The bench's own Python environment for its peers (``var/bench-peer``: panoramisk, and
py-spy for a profile), and the peer servers of ``bench/agi_peers.py`` started in it.

The environment is made with ``venv`` and pip on first use and reused after; it is not the
project's (panoramisk is no dependency of the hotline).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEER_ENV = ROOT / "var" / "bench-peer"
PEERS = Path(__file__).resolve().parent / "agi_peers.py"


class NoPeer(Exception):
    """The peer's environment could not be made (the message says why, in one line)."""


def _has(python: Path, module: str) -> bool:
    found = subprocess.run([python, "-c", f"import {module}"], capture_output=True)
    return found.returncode == 0


def _pip_install(python: Path, package: str) -> str | None:
    """pip installs ``package`` with ``python``; None, or the last line pip wrote."""
    got = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", package],
        capture_output=True,
        text=True,
    )
    return None if got.returncode == 0 else (got.stderr.strip().splitlines() or ["?"])[-1]


def peer_python(folder: Path = PEER_ENV, module: str = "panoramisk") -> Path:
    """The peer environment's python, with ``module`` importable (pip installs it when it
    is not)."""
    python = folder / "bin" / "python"
    if not python.exists():
        made = subprocess.run([sys.executable, "-m", "venv", folder], capture_output=True)
        if made.returncode != 0:
            raise NoPeer(f"cannot make {folder}: {made.stderr.decode().strip()[-200:]}")
    if not _has(python, module):
        failed = _pip_install(python, module)
        if failed or not _has(python, module):
            raise NoPeer(f"pip cannot install {module} into {folder}: {failed}")
    return python


def peer_tool(name: str, package: str, folder: Path = PEER_ENV) -> Path:
    """A command of the peer environment (``py-spy``), pip installing ``package`` first
    when it is missing."""
    tool = peer_python(folder).parent / name
    if not tool.exists():
        failed = _pip_install(tool.parent / "python", package)
        if failed or not tool.exists():
            raise NoPeer(f"pip cannot install {package} into {folder}: {failed}")
    return tool


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def peer_server(
    python: Path, kind: str, commands: Path, folder: Path
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``bench/agi_peers.py kind`` on a free port; yields the port and the process. Ready
    when it says so (a connection to probe it would be a call without an environment)."""
    port = free_port()
    log = (folder / f"{kind}-{port}.log").open("w+b")
    process = subprocess.Popen(
        [python, PEERS, kind, "--port", str(port), "--commands", commands],
        stdout=subprocess.PIPE,
        stderr=log,
    )
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != b"listening":
            log.seek(0)
            raise SystemExit(f"the {kind} peer did not start:\n{log.read().decode()}")
        yield port, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.seek(0)
        errors = log.read().decode(errors="replace").strip()
        if errors:
            print(f"  the {kind} peer logged: {errors.splitlines()[-1][:200]}")
        log.close()
