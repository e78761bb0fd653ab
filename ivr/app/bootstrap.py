"""The composition root: the one place that builds engines, stores and use cases, each
on first use (nothing at import time).

The pool is sized to the threads that may want a connection at once (FastAGI calls, web
and background threads), up to ``IVR_DB_POOL_SIZE``; on PostgreSQL, ``ivr fastagi`` and
``ivr serve`` run their FastAGI calls on an event loop with a pool of their own
(``CallLoopParts``). A unit of work that gets no connection within ``IVR_DB_POOL_TIMEOUT``
seconds waits again, three waits in all (``SqlUnitOfWork``; an agent's claim retries
longer, ``ivr.services.store_waits``), then fails its use case: the caller takes the
flow's error route (SQLite: the writer lock, one wait). PINs are hashed at most one per
core at once (``PepperedPins``)."""

from __future__ import annotations

import os
import platform
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine as Database
from sqlalchemy.orm import Session, sessionmaker

from ivr.app.call_loop_parts import CallLoopParts
from ivr.app.config import WEB_THREADS, Settings
from ivr.app.gate_waits import wait_outside
from ivr.flow.engine import Engine
from ivr.flow.loader import load_flow
from ivr.flow.model import Flow
from ivr.flow.state import CallStart
from ivr.flow.survey_parts import RECORD_SURVEY
from ivr.phone.asterisk.fastagi_gate import GATE
from ivr.phone.session import CallSession
from ivr.services import ports
from ivr.services.call_records import CallRecorder
from ivr.services.clock import clock_from
from ivr.services.pins import PepperedPins
from ivr.services.registry import HOTLINE_ACTIONS
from ivr.services.survey_ports import SurveyAnswers
from ivr.services.surveys import keep_recording, record_survey
from ivr.services.usecases import UseCases
from ivr.store.db import PoolSize, connect
from ivr.store.schema import require_current
from ivr.store.unit_of_work import SqlUnitOfWork
from ivr.store.unit_of_work import pause as store_pause

if TYPE_CHECKING:
    from ivr.app.operations import Operations
    from ivr.audio.values import Renderer
    from ivr.services.call_record_reaper import RecordUpkeep
    from ivr.services.complaint_desk import ComplaintDesk
    from ivr.services.contact_center import ContactCenter
    from ivr.services.contact_context import CenterSettings
    from ivr.services.recording_upkeep import RecordingUpkeep
    from ivr.services.sign_in_ports import SignInRecords


#: Threads besides calls and web requests that use the database: the dispatcher (its rounds
#: send the SMS outbox too), the webhooks' lane (``ivr.app.web_lanes``) and one to spare.
BACKGROUND_THREADS = 3
#: Seconds a call's move through the menus may wait for a newer one before its record is
#: rewritten, in a process serving many calls (``CallRecorder.keep_later``).
RECORD_DEFER = 1.0


def pool_size(settings: Settings, calls: bool = True, others: bool = True) -> PoolSize:
    """Connections a process may need at once (up to ``IVR_DB_POOL_SIZE``): its FastAGI
    ``calls``, its ``others`` (web and background threads)."""
    besides = WEB_THREADS + BACKGROUND_THREADS
    wanted = (settings.fastagi_max_calls if calls else 0) + (besides if others else 0)
    return PoolSize(min(wanted, settings.db_pool_size), settings.db_pool_timeout)


def load_hotline(path: Path) -> Flow:
    """Load a flow file against the product's registered use cases."""
    return load_flow(path, HOTLINE_ACTIONS)


@dataclass
class Components(CallLoopParts):
    """The process's components (flow, engine, database, use cases, contact center, call
    recorder), each built on first use. Phone drivers see it as ``ivr.phone.channel.Parts``,
    the web as ``ivr.web.parts.WebParts``."""

    settings: Settings
    #: The one clock of the process: services, use cases and call records read it.
    clock: ports.Clock
    #: Set when the process stops taking calls (FastAGI shutdown): callers on hold are
    #: handed to the dialplan's safe route instead of holding the shutdown up.
    stopping: threading.Event = field(default_factory=threading.Event)
    #: What this process is (``fastagi``, ``serve``, ``agi``): with the host and process id
    #: it names the holder of its callers (``held_by``); ``CallLoopParts`` reads it too.
    role: str = "ivr"

    @cached_property
    def flow(self) -> Flow:
        return load_hotline(self.settings.flow_path)

    @property
    def callback_offer_after(self) -> float:
        return float(self.settings.callback_offer_after)

    @cached_property
    def engine(self) -> Engine:
        return Engine(self.flow)

    @cached_property
    def database(self) -> Database:
        settings = self.settings
        pool = pool_size(settings, calls=not self.calls_on_loop)  # else: the loop's own
        engine = connect(settings.database_url, pool, settings.db_busy_timeout)
        wait_outside(engine, GATE)  # FastAGI calls wait for the database off the work gate
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions on a database whose schema matches this code (else SchemaOutOfDate)."""
        require_current(self.database)
        return sessionmaker(self.database, expire_on_commit=False)

    @cached_property
    def _writer_lock(self) -> threading.Lock | None:
        return threading.Lock() if self.database.dialect.name == "sqlite" else None

    @property
    def writer_lock(self) -> threading.Lock | None:
        """SQLite's one writer at a time, as this process's threads take turns on it (every
        writing transaction takes it: units of work, Twilio's call states); None on
        PostgreSQL."""
        return self._writer_lock

    @cached_property
    def pepper(self) -> bytes:
        """The PIN hashes' key (read, or created, on the first PIN checked)."""
        return self.settings.pepper()

    @cached_property
    def pins(self) -> PepperedPins:
        """Checks PINs, one per core at once."""
        return PepperedPins(lambda: self.pepper, offload=self.pin_offload)

    @property
    def loop_pool(self) -> PoolSize:
        """The pool of the calls' asyncio engine (``CallLoopParts``)."""
        return pool_size(self.settings, others=False)

    def unit_of_work(self) -> ports.UnitOfWork:
        timeout = self.settings.db_pool_timeout
        return SqlUnitOfWork(self.call_sessions, self._writer_lock, timeout, GATE.database_wait)

    @cached_property
    def use_cases(self) -> UseCases:
        from ivr.services.resume import resume_use_case

        self.sessions  # noqa: B018 - check the schema now, not in the middle of a call
        use_cases = UseCases(
            self.unit_of_work,
            self.clock,
            self.settings.secret,
            self.pins,
            self.recorder,
            complaint_standard=lambda: self.flow.complaints,
        )
        # Callback reference codes are the contact center's; it is built on first use.
        use_cases.provide(
            "resume_callback", lambda args: resume_use_case(self.contact_center)(args)
        )
        use_cases.provide(RECORD_SURVEY, partial(record_survey, self.survey_answers, self.clock))
        use_cases.recordings = partial(keep_recording, self.survey_answers, self.clock)
        return use_cases

    @cached_property
    def survey_answers(self) -> SurveyAnswers:
        """Survey answers and recordings, in the database."""
        from ivr.store.survey_answers import SqlSurveyAnswers

        return SqlSurveyAnswers(self.call_sessions)

    @property
    def recordings_dir(self) -> Path:
        """Where drivers keep callers' recordings (``Settings.recordings``)."""
        return self.settings.recordings()

    def recording_upkeep(self) -> RecordingUpkeep:
        """The recordings' retention, run by the dispatcher's rounds."""
        from ivr.services.recording_upkeep import RecordingUpkeep
        from ivr.store.recording_files import RecordingFolder

        days = timedelta(days=self.settings.recording_retention_days)
        folder = RecordingFolder(self.recordings_dir)
        return RecordingUpkeep(self.survey_answers, folder, self.clock, days)

    @cached_property
    def recorder(self) -> CallRecorder:
        """Keeps call records: in the database, else in this database's spool."""
        from ivr.store.record_spool import FileRecordSpool

        # A process serving many calls lets a call's moves through the menus wait a moment
        # for newer ones (``CallRecorder.keep_later``); a per-call AGI process writes each.
        defer = RECORD_DEFER if self.role in ("fastagi", "serve") else None
        spool = FileRecordSpool(self.settings.record_spool())
        return CallRecorder(self.unit_of_work, spool, defer)

    def record_upkeep(self) -> RecordUpkeep:
        """What each dispatcher round does for call records (spool, reaper)."""
        from ivr.services.call_record_reaper import RecordUpkeep

        lease = timedelta(seconds=self.settings.record_lease)
        return RecordUpkeep(self.recorder, self.clock, lease)

    @cached_property
    def contact_center(self) -> ContactCenter:
        """The queue, agents and callbacks (the secret key is read on first need)."""
        from ivr.services.contact_center import ContactCenter

        self.sessions  # noqa: B018 - check the schema now, not in the middle of a call
        return ContactCenter(
            self.unit_of_work,
            self.clock,
            center_settings(self.settings),
            ring_timeouts=RingTimeouts(self),
            holder=f"{self.role} {platform.node()}:{os.getpid()}",
            pause=store_pause,  # on the loop for a call's greenlet, else a sleep
        )

    @cached_property
    def complaints(self) -> ComplaintDesk:
        """What supervisors do with complaints, to the standard of the flow in use."""
        from ivr.services.complaint_desk import ComplaintDesk

        return ComplaintDesk(self.unit_of_work, self.clock, lambda: self.flow.complaints)

    @cached_property
    def sign_in_records(self) -> SignInRecords:
        """The web's sign-in attempts and console sessions, in the database."""
        from ivr.store.sign_in_records import SqlSignInRecords

        return SqlSignInRecords(self.sessions)

    @cached_property
    def operations(self) -> Operations:
        """The metrics registry and the readiness checks (``/metrics``, ``/readyz``)."""
        from ivr.app.operations import Operations

        return Operations(lambda: self.database, lambda: self.flow, self.clock)

    def install_flow(self, flow: Flow, engine: Engine) -> None:
        """Serve new calls from this flow; calls in progress keep the engine they have."""
        self.__dict__["engine"] = engine
        self.__dict__["flow"] = flow

    def text_renderer(self, flow: Flow) -> Renderer:
        """Speaks free-text values (a merchant's name) for calls on ``flow``: rendered once
        with espeak-ng into the flow's prompts folder, where Asterisk plays them from."""
        from ivr.audio.build import prompts_root  # only calls that speak a value need these
        from ivr.audio.render import dynamic_renderer

        return self.off_loop_renderer(dynamic_renderer(prompts_root(flow)))

    def session(self, call: CallStart, channel: str, holds: bool = False) -> CallSession:
        """``holds``: the driver holds queued callers and closes the record after."""
        return CallSession(self.engine, self.use_cases, call, channel, self.clock, holds)


def bootstrap(
    settings: Settings | None = None, clock: ports.Clock | None = None, role: str = "ivr"
) -> Components:
    """The hotline for ``settings`` (from the environment when None). Its clock is
    ``clock``, else one running from ``settings.clock_start``, else the real time."""
    settings = settings or Settings.from_env()
    return Components(settings, clock or clock_from(settings.clock_start), role=role)


def center_settings(settings: Settings) -> CenterSettings:
    """The settings the contact center reads (the secret key is read on first need)."""
    from ivr.services.contact_context import CenterSettings

    leases = settings.queue_lease_seconds
    return CenterSettings(settings.secret, settings.wrap_up_seconds, queue_lease_seconds=leases)


class RingTimeouts(Mapping[str, int]):
    """Seconds an offer rings, per queue, from the flow being served (its ``queues:``
    section's ``ring_timeout``; a reloaded flow counts from then on)."""

    def __init__(self, hotline: Components) -> None:
        self.hotline = hotline

    def __getitem__(self, queue: str) -> int:
        return round(self.hotline.flow.queues[queue].policy.ring_timeout)

    def __iter__(self) -> Iterator[str]:
        return iter(self.hotline.flow.queues)

    def __len__(self) -> int:
        return len(self.hotline.flow.queues)
