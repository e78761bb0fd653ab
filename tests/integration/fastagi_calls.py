"""Calls on a FastAGI server, each a thread being Asterisk with ``FakeAsterisk``: a
caller can be made to stall at a command (the line stays up, nothing is answered) or
to take a while before answering one, as a caller listening to a prompt does."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

from agi_fake import FakeAsterisk, environment


def fastagi_env(uniqueid: str, script: str = "hotline") -> list[str]:
    return environment("fastagi_session.txt", agi_network_script=script, agi_uniqueid=uniqueid)


class Caller:
    """``Caller(port, keys, uniqueid)``; ``start()``; the call stalls before replying to
    the first command starting with ``stall_at`` until ``release`` is set (or the server
    goes away); ``slow`` delays the reply to commands starting with it by ``delay``."""

    def __init__(
        self,
        port: int,
        keys: str,
        uniqueid: str,
        *,
        stall_at: str | None = None,
        slow: str | None = None,
        delay: float = 0.0,
    ) -> None:
        self.port = port
        self.fake = FakeAsterisk(keys, env=fastagi_env(uniqueid))
        self.stall_at = stall_at
        self.slow = slow
        self.delay = delay
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self._talk, name=f"caller-{uniqueid}")

    def start(self) -> Caller:
        self.thread.start()
        return self

    def join(self, timeout: float = 60) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"the call did not end: {self.fake.commands[-8:]}"

    def _talk(self) -> None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=60) as sock:
                reader = sock.makefile("r", encoding="utf-8", newline="\n")
                writer = sock.makefile("w", encoding="utf-8", newline="\n")
                writer.write("".join(f"{line}\n" for line in self.fake.environment) + "\n")
                writer.flush()
                for command in reader:
                    self._before(command, sock)
                    lines = self.fake.reply(command)
                    if self.fake.state == "closed":
                        return
                    writer.write("".join(f"{line}\n" for line in lines))
                    writer.flush()
        except OSError:
            pass  # the server went away (killed): the call is over for this side
        finally:
            self.ended.set()

    def _before(self, command: str, sock: socket.socket) -> None:
        if self.slow and command.startswith(self.slow):
            time.sleep(self.delay)
        if self.stall_at and command.startswith(self.stall_at) and not self.stalled.is_set():
            self.stalled.set()
            while not self.release.wait(0.1):
                if _closed(sock):
                    raise OSError("the server closed the line")


def _closed(sock: socket.socket) -> bool:
    """Whether the peer closed the connection (without reading what it sent)."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.settimeout(60)


def wait_for(condition: Callable[[], object], what: str, within: float = 30) -> None:
    """Poll until ``condition()`` is true; fail naming ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
