"""The background thread that keeps the queue moving: every second it assigns waiting
entries to free agents (``ContactCenter.dispatch``) and dials the callbacks that were
offered to an agent (``due_callbacks``: each is claimed once, then dialled through the
``Dialer`` the composition root picked, ``ivr.app.channels``: call files by default, a
Twilio call with ``IVR_CALLBACKS_VIA=twilio``). A callback that cannot be dialled (a call
file that cannot be written, a Twilio API error) counts as a failed attempt
(``callback_failed``: retried later, at most three times). Either way the customer's phone
rings ``IVR_CALLBACK_RING_SECONDS``, and the claim's lease covers that (a dialler that
dies before the attempt's end is reported leaves it to the reaper, which counts it failed).
When a phone system can send SMS (a Twilio account is configured), each round also sends
the SMS outbox (``ivr.services.outbox``); without one, each round still expires the
messages older than their code (redacted, never sent later). At most every
``REAP_INTERVAL`` seconds a round first runs the reaper (``ivr.services.reaper``): entries
whose holder stopped renewing their lease are abandoned, offers past their ring timeout
taken back; several processes on one database take turns, never both. Then each round
replays the call-record spool and, every few seconds, closes the records of calls whose
process died (``ivr.services.call_record_reaper``): after the entry reaper, so a caller
whose entry was just found a ghost has its record closed too.
Every ten minutes or so a round also deletes the callers' recordings past their retention
(``ivr.services.recording_upkeep``: the file and its row).

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

if TYPE_CHECKING:
    from ivr.phone.channel import Dialer
    from ivr.services.call_record_reaper import RecordUpkeep
    from ivr.services.contact_center import ContactCenter
    from ivr.services.contact_snapshots import Assignment
    from ivr.services.outbox import OutboxSender
    from ivr.services.reaper import Reaped
    from ivr.services.recording_upkeep import RecordingUpkeep

logger = logging.getLogger(__name__)

INTERVAL = 1.0
#: Seconds between two reaper rounds in one process.
REAP_INTERVAL = 3.0
#: Seconds the customer's phone rings for a callback (``IVR_CALLBACK_RING_SECONDS``).
RING_SECONDS = 30


class Dispatcher:
    """``start()``, ``stop()``; ``run_once()`` is one round (the tests call it)."""

    def __init__(
        self,
        center: Callable[[], ContactCenter],
        dialer: Dialer,
        ring_seconds: int = RING_SECONDS,
        interval: float = INTERVAL,
        *,
        outbox: OutboxSender | None = None,
        send_sms: bool = True,
        reap_interval: float = REAP_INTERVAL,
        records: RecordUpkeep | None = None,
        recordings: RecordingUpkeep | None = None,
    ) -> None:
        """``dialer``: how callbacks are dialled (the composition root's choice);
        ``ring_seconds``: how long the customer's phone rings (the claim's lease covers it);
        ``outbox``: send the SMS outbox every round (``send_sms``), or only expire it;
        ``records``: replay the call-record spool and close interrupted records;
        ``recordings``: delete the recordings past their retention."""
        self._center = center
        self.dialer = dialer
        self.ring_seconds = ring_seconds
        self.interval = interval
        self.outbox = outbox
        self.send_sms = send_sms
        self.reap_interval = reap_interval
        self._reaped_at: float | None = None
        self.records = records
        self.recordings = recordings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

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
        if self.recordings is not None:
            try:
                self.recordings.run()
            except Exception:
                logger.exception("queue dispatcher: the recordings' retention failed; trying again")
        center.dispatch()
        dialled = []
        for assignment in center.due_callbacks(self.ring_seconds):
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
        """Ring the customer back through the dialer; what names the call, or None when
        it could not be placed (a failed attempt, retried later)."""
        callback_id = assignment.entry.callback_id
        if callback_id is None:
            return None
        found = next((c for c in center.callbacks_view() if c.id == callback_id), None)
        failure = self.dialer.failure
        try:
            if found is None:
                raise IvrError(f"callback {callback_id} is not there")
            placed = self.dialer.call_back(found, self.ring_seconds)
        except IvrError as exc:
            logger.error("callback %d: %s: %s", callback_id, failure, exc)
            center.callback_failed(callback_id, f"{failure}: {exc}")
            return None
        logger.warning(
            "callback %d: %s for agent %s (attempt %d): %s",
            *(callback_id, self.dialer.calling, assignment.agent.username),
            *(found.attempts, self.dialer.shown(placed)),
        )
        return placed
