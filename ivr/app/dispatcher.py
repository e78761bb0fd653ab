"""The background thread that keeps the queue moving: every second it assigns waiting
entries to free agents (``ContactCenter.dispatch``) and dials the callbacks that were
offered to an agent (``due_callbacks``: each is claimed once, then its call file is
written by ``ivr.phone.asterisk.call_files``). A call file that cannot be written counts as a
failed attempt (``callback_failed``: retried later, at most three times). With
``IVR_CALLBACKS_VIA=twilio`` a callback is a Twilio call instead (``calls.create``; an API
error is a failed attempt too). Either way the customer's phone rings
``IVR_CALLBACK_RING_SECONDS``, and the claim's lease covers that (a dialler that dies
before the attempt's end is reported leaves it to the reaper, which counts it failed).
When a Twilio account is configured, each round also sends the SMS outbox
(``ivr.services.outbox``); without one, each round still expires the messages older
than their code (redacted, never sent later). At most every
``REAP_INTERVAL`` seconds a round first runs the reaper (``ivr.services.reaper``): entries
whose holder stopped renewing their lease are abandoned, offers past their ring timeout
taken back; several processes on one database take turns, never both. Then each round
replays the call-record spool and, every few seconds, closes the records of calls whose
process died (``ivr.services.call_record_reaper``): after the entry reaper, so a caller
whose entry was just found a ghost has its record closed too.

``ivr fastagi`` and ``ivr serve`` both run one; several processes may, since every claim
is atomic in the database. An error is logged and the next round tries again: the thread
never dies of one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ivr.errors import IvrError
from ivr.phone.asterisk import call_files as originate
from ivr.phone.asterisk.call_files import CallbackSettings

if TYPE_CHECKING:
    from ivr.app.bootstrap import Hotline
    from ivr.phone.twilio.rest import TwilioRest
    from ivr.services.call_record_reaper import RecordUpkeep
    from ivr.services.contact_center import ContactCenter
    from ivr.services.contact_ports import Assignment, Callback
    from ivr.services.outbox import OutboxSender
    from ivr.services.reaper import Reaped

logger = logging.getLogger(__name__)

INTERVAL = 1.0
#: Seconds between two reaper rounds in one process.
REAP_INTERVAL = 3.0


class Dispatcher:
    """``start()``, ``stop()``; ``run_once()`` is one round (the tests call it)."""

    def __init__(
        self,
        center: Callable[[], ContactCenter],
        settings: CallbackSettings,
        interval: float = INTERVAL,
        *,
        twilio: TwilioRest | None = None,
        outbox: OutboxSender | None = None,
        send_sms: bool = True,
        reap_interval: float = REAP_INTERVAL,
        records: RecordUpkeep | None = None,
    ) -> None:
        """``twilio``: dial callbacks through Twilio rather than call files;
        ``outbox``: send the SMS outbox every round (``send_sms``), or only expire it;
        ``records``: replay the call-record spool and close interrupted records."""
        self._center = center
        self.settings = settings
        self.interval = interval
        self.twilio = twilio
        self.outbox = outbox
        self.send_sms = send_sms
        self.reap_interval = reap_interval
        self._reaped_at: float | None = None
        self.records = records
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_hotline(cls, hotline: Hotline, interval: float = INTERVAL) -> Dispatcher:
        from ivr.phone.twilio.rest import TwilioNotConfigured, twilio_for
        from ivr.services.outbox import OutboxSender, not_configured

        twilio = twilio_for(hotline.settings)
        if hotline.settings.callbacks_via == "twilio" and twilio is None:
            raise TwilioNotConfigured(
                "IVR_CALLBACKS_VIA=twilio needs IVR_TWILIO_ACCOUNT_SID, "
                "IVR_TWILIO_AUTH_TOKEN and IVR_TWILIO_FROM"
            )
        send = twilio.send_sms if twilio is not None else not_configured
        return cls(
            lambda: hotline.contact_center,
            CallbackSettings.from_env(),
            interval,
            twilio=twilio if hotline.settings.callbacks_via == "twilio" else None,
            outbox=OutboxSender(hotline.unit_of_work, hotline.clock, send),
            send_sms=twilio is not None,
            records=hotline.record_upkeep(),
        )

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="queue-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                logger.exception("queue dispatcher: a round failed; trying again")
            self._stop.wait(self.interval)

    def run_once(self) -> list[str]:
        """One round; the callbacks dialled (call files written, or Twilio call SIDs)."""
        center = self._center()
        self.reap(center)  # logs its own failure: the records' upkeep still runs
        if self.records is not None:
            try:
                self.records.run()
            except Exception:
                logger.exception("queue dispatcher: call-record upkeep failed; trying again")
        center.dispatch()
        dialled = []
        for assignment in center.due_callbacks(self.settings.ring_seconds):
            placed = self.dial(center, assignment)
            if placed:
                dialled.append(placed)
        if self.outbox is not None:
            try:
                if self.send_sms:
                    self.outbox.send_queued()
                else:
                    self.outbox.expire()
            except Exception:
                logger.exception("queue dispatcher: the SMS outbox failed; trying again")
        return dialled

    def reap(self, center: ContactCenter) -> Reaped | None:
        """The reaper's round, if ``reap_interval`` has passed since the last one (a
        failure is logged; the dispatch goes on)."""
        started = time.monotonic()
        if self._reaped_at is not None and started - self._reaped_at < self.reap_interval:
            return None
        self._reaped_at = started
        try:
            return center.reap()
        except Exception:
            logger.exception("queue dispatcher: the reaper failed; trying again")
            return None

    def dial(self, center: ContactCenter, assignment: Assignment) -> str | None:
        callback_id = assignment.entry.callback_id
        if callback_id is None:
            return None
        found = next((c for c in center.callbacks_view() if c.id == callback_id), None)
        if self.twilio is not None:
            return self._call_through_twilio(center, assignment, callback_id, found)
        try:
            if found is None:
                raise originate.OriginateError(f"callback {callback_id} is not there")
            path = originate.originate(self.settings, callback_id, found.attempts, found.number)
        except Exception as exc:
            logger.error("callback %d: no call file: %s", callback_id, exc)
            center.callback_failed(callback_id, f"no call file: {exc}")
            return None
        logger.warning(
            "callback %d: calling back for agent %s (attempt %d): %s",
            *(callback_id, assignment.agent.username, found.attempts, path.name),
        )
        return str(path)

    def _call_through_twilio(
        self,
        center: ContactCenter,
        assignment: Assignment,
        callback_id: int,
        found: Callback | None,
    ) -> str | None:
        assert self.twilio is not None
        try:
            if found is None:
                raise originate.OriginateError(f"callback {callback_id} is not there")
            sid = self.twilio.call_back(callback_id, found.number, self.settings.ring_seconds)
        except IvrError as exc:
            logger.error("callback %d: no Twilio call: %s", callback_id, exc)
            center.callback_failed(callback_id, f"no Twilio call: {exc}")
            return None
        logger.warning(
            "callback %d: calling back through Twilio for agent %s (attempt %d): %s",
            *(callback_id, assignment.agent.username, found.attempts, sid),
        )
        return sid
