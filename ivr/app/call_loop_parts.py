"""What a FastAGI call on the event loop (in its greenlet: ``ivr.phone.asterisk.fastagi_loop``)
gets of the process differently from a thread:

- ``CallSessions``: sessions from the loop's asyncio engine, so its round trips wait on the
  loop; every other thread (web, dispatcher, the call record writer, a call thread) gets
  one on the plain engine. Both engines reach the same database, each with its own pool.
- ``OffLoop``: CPU work that lets go of the interpreter lock (a PIN's scrypt) run on a
  worker thread, one per core, while the loop serves other calls; elsewhere in the
  calling thread.
"""

from __future__ import annotations

import asyncio
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.util.concurrency import await_, in_greenlet

from ivr.app.gate_waits import first_while_connected
from ivr.store.db import PoolSize, connect_for_loop, is_sqlite

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from ivr.app.config import Settings
    from ivr.audio.values import Renderer

T = TypeVar("T")


class CallSessions:
    """``sessionmaker``-like: ``CallSessions(plain, on_loop)()`` is a new session."""

    def __init__(self, plain: sessionmaker[Session], on_loop: sessionmaker[Session]) -> None:
        self.plain = plain
        self.on_loop = on_loop

    def __call__(self) -> Session:
        if in_greenlet():
            return self.on_loop()
        return self.plain()


class OffLoop:
    """``OffLoop()(work)``: ``work()``'s result; from a call's greenlet, worked out on one of
    ``workers`` threads (default: one per core) while the greenlet waits on the loop."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool: ThreadPoolExecutor | None = None

    def __call__(self, work: Callable[[], T], /) -> T:
        if not in_greenlet():
            return work()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, "off-loop")
        return await_(asyncio.get_running_loop().run_in_executor(self._pool, work))


class CallLoopParts(ABC):
    """The composition root's parts for calls on the event loop (mixed into
    ``ivr.app.bootstrap.Components``, which has the settings, the role, the plain
    sessions and the pool's size)."""

    settings: Settings
    role: str

    @property
    @abstractmethod
    def sessions(self) -> sessionmaker[Session]:
        """The plain engine's sessions (``Components.sessions``)."""

    @property
    @abstractmethod
    def loop_pool(self) -> PoolSize:
        """The event loop engine's pool size (``Components.loop_pool``)."""

    @property
    def pin_offload(self) -> OffLoop | None:
        """Where PINs are hashed: off the loop when calls run on one, else in the caller."""
        return self.off_loop if self.calls_on_loop else None

    def off_loop_renderer(self, render: Renderer) -> Renderer:
        """``render``, waited for off the loop by a call on it (espeak-ng is a child
        process that takes a while)."""
        if not self.calls_on_loop:
            return render
        off_loop = self.off_loop
        return lambda text, language: off_loop(lambda: render(text, language))

    @cached_property
    def off_loop(self) -> OffLoop:
        """Where a call on the event loop has slow work done that would stop the loop:
        PIN hashing, rendering a free-text value (one thread per core)."""
        return OffLoop()

    @property
    def calls_on_loop(self) -> bool:
        """Whether this process's FastAGI calls run on an event loop, a greenlet each
        (``ivr fastagi`` and ``ivr serve`` on PostgreSQL), not on a thread each (SQLite:
        its statements are no network wait, and its writer lock is a thread's)."""
        return self.role in ("fastagi", "serve") and not is_sqlite(self.settings.database_url)

    @cached_property
    def call_database(self) -> AsyncEngine | None:
        """The same database through an asyncio engine, for the FastAGI calls on the event
        loop (``ivr.phone.asterisk.fastagi_loop``); None when calls run on threads."""
        if not self.calls_on_loop:
            return None
        engine = connect_for_loop(self.settings.database_url, self.loop_pool)
        if engine is not None:  # a call holding a connection skips the loop's line
            first_while_connected(engine.sync_engine)
        return engine

    def call_loop_ended(self) -> None:
        """Close the asyncio engine's connections, on the loop that opened them; a later
        loop gets a new engine."""
        engine = self.__dict__.pop("call_database", None)
        self.__dict__.pop("call_sessions", None)
        if engine is not None:
            engine.sync_engine.dispose()

    @cached_property
    def call_sessions(self) -> Callable[[], Session]:
        """Sessions from the engine the asking thread waits on (``CallSessions``)."""
        if self.call_database is None:
            return self.sessions
        on_loop = sessionmaker(self.call_database.sync_engine, expire_on_commit=False)
        return CallSessions(self.sessions, on_loop)
