"""The other end of the loopback phone: a scripted caller, run in a thread of its own.

``keys`` answers each ``WAIT`` in turn, like ``ivr call --keys``: digits, ``t`` (silence),
``h`` (hang up), ``x`` (the connection drops: the phone crashed), ``?`` (an answer the
protocol does not have: a broken phone); a ``RECORD`` takes the next token as what the
caller says (``t``: silence). With no keys left the caller hangs up. ``press``
maps a prompt id to the key pressed while it plays (once, and only if the prompt takes
that key). ``ring`` is what the phone says when an agent is rung; with ``talk`` the agent
and caller talk (after ``PICKUP``) until ``talk_over`` is set. Hold music (``FILE``) takes
``pace`` seconds.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

from loopback import protocol as wire


def dialling(call_id: str, caller_id: str, dialled: str = "95188") -> str:
    """The first line of a call to the hotline."""
    return wire.line(wire.CALL, call_id, caller_id, dialled)


def answering(callback_id: int, call_id: str) -> str:
    """The first line of a callback the customer answers."""
    return wire.line(wire.CALLBACK, callback_id, call_id)


def missed(callback_id: int, reason: str = "no answer") -> str:
    """The first line of a report that a callback did not reach the customer."""
    return wire.line(wire.MISSED, callback_id, reason)


class Dropped(Exception):
    """The script says the connection drops here."""


class LoopbackCaller:
    """Calls the loopback server at ``address``; ``first``: ``dialling(...)`` or
    ``answering(...)``; the rest is the script (the module's docstring)."""

    def __init__(
        self,
        address: tuple[str, int],
        first: str,
        keys: str = "",
        press: dict[str, str] | None = None,
        ring: tuple[str, ...] = (wire.PICKUP, wire.ANSWER),
        pace: float = 0.02,
        talk: bool = False,
    ) -> None:
        self.address = address
        self.first = first
        self.keys = keys.split()
        self.press = dict(press or {})
        self.ring = ring
        self.pace = pace
        self.talk = talk
        self.talk_over = threading.Event()
        self.heard: list[wire.Message] = []
        self.variables: dict[str, str] = {}
        self.ended = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._talk, name="loopback-caller")

    def start(self) -> LoopbackCaller:
        self._thread.start()
        return self

    def join(self, within: float = 20.0) -> LoopbackCaller:
        self._thread.join(within)
        assert not self._thread.is_alive(), f"the call did not end: {self.said()[-8:]}"
        return self

    def said(self) -> list[str]:
        """What the controller sent, as ``VERB first-field`` (``PLAY welcome``)."""
        return [f"{m.verb} {m.field(0)}".rstrip() for m in list(self.heard)]

    def prompts(self) -> list[str]:
        return [m.field(0) for m in list(self.heard) if m.verb == wire.PLAY]

    def wait_for(self, test: Callable[[LoopbackCaller], bool], within: float = 10.0) -> None:
        """Until ``test(self)`` holds (or the call ends); fails after ``within`` seconds."""
        with self._changed:
            done = self._changed.wait_for(lambda: test(self) or self.ended.is_set(), within)
        assert done and test(self), f"not heard in {within} s: {self.said()[-8:]}"

    def _talk(self) -> None:
        try:
            with socket.create_connection(self.address, timeout=20) as sock:
                reader = sock.makefile("r", encoding="utf-8", newline="\n")
                writer = sock.makefile("w", encoding="utf-8", newline="\n")
                writer.write(self.first + "\n")
                writer.flush()
                for text in reader:
                    command = wire.parse(text)
                    with self._changed:
                        self.heard.append(command)
                        self._changed.notify_all()
                    if command.verb == wire.HANGUP:
                        return
                    for answer in self._answers(command):
                        if answer != wire.PICKUP and command.verb == wire.RING and self.talk:
                            self.talk_over.wait(10)
                        writer.write(answer + "\n")
                        writer.flush()
        except (Dropped, OSError):
            pass  # the phone crashed, or the controller went away
        finally:
            with self._changed:
                self.ended.set()
                self._changed.notify_all()

    def _answers(self, command: wire.Message) -> list[str]:
        if command.verb == wire.WAIT:
            return [self._keys()]
        if command.verb == wire.RECORD:  # the next key token is what the caller says
            said = self._keys()
            if said.startswith(wire.KEYS):
                return [wire.line(wire.RECORDED, f"{command.field(1)}.txt")]
            return [wire.SILENT if said == wire.TIMEOUT else said]
        if command.verb == wire.RING:
            return list(self.ring)
        if command.verb == wire.SET:
            self.variables[command.field(0)] = command.field(1)
        if command.verb == wire.FILE:
            time.sleep(self.pace)  # hold music plays a while
        if command.verb in (wire.PLAY, wire.FILE):
            key = self.press.get(command.field(0), "")
            if key and key in command.field(1):
                del self.press[command.field(0)]
                return [wire.line(wire.KEY, key)]
        return [wire.OK]

    def _keys(self) -> str:
        token = self.keys.pop(0) if self.keys else "h"
        if token == "x":
            raise Dropped
        if token == "h":
            return wire.HANGUP
        if token == "t":
            return wire.TIMEOUT
        if token == "?":
            return "WHAT"
        return wire.line(wire.KEYS, token)
