"""How the loopback phone places callbacks and sends text messages: into lists the tests
read (``Rung``), as a call file lands in Asterisk's spool."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from ivr.services.contact_ports import Callback

T = TypeVar("T")


class Rung(Generic[T]):
    """What was placed so far, in order; ``wait(n)`` until there are ``n``."""

    def __init__(self) -> None:
        self.items: list[T] = []
        self._changed = threading.Condition()

    def append(self, item: T) -> None:
        with self._changed:
            self.items.append(item)
            self._changed.notify_all()

    def wait(self, count: int = 1, within: float = 10.0) -> list[T]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.items) >= count, within):
                raise TimeoutError(f"{len(self.items)} placed, not {count}, in {within} s")
            return list(self.items)


class LoopbackDialer:
    """Rings the customer back by adding the callback to ``rung``; what names the attempt
    is ``loopback-<callback id>-<attempt>``."""

    failure = "no loopback ring"
    calling = "calling back on the loopback phone"

    def __init__(self, rung: Rung[Callback]) -> None:
        self.rung = rung

    def call_back(self, callback: Callback, ring_seconds: int) -> str:
        self.rung.append(callback)
        return f"loopback-{callback.id}-{callback.attempts}"

    def shown(self, placed: str) -> str:
        return placed


class LoopbackTexts:
    """Sends a text message by adding ``(to, body)`` to ``rung``."""

    def __init__(self, rung: Rung[tuple[str, str]]) -> None:
        self.rung = rung

    def __call__(self, to: str, body: str) -> str:
        self.rung.append((to, body))
        return f"loopback-sms-{len(self.rung.items)}"
