"""The AGI driver: a session's actions as AGI commands, the caller's keys back as events
(``docs/asterisk.md``). ``AgiDriver`` is the ``ivr.phone.line.Line`` of an Asterisk
channel: the call loop (``ivr.phone.call_loop``) and the hold (``ivr.phone.holding``) run
over it. What is Asterisk's stays here: the commands, the ``IVR_*`` channel variables the
dialplan reads, ``Dial PJSIP/...``. Each line action has one performer in ``PERFORMERS``.

However the caller leaves (SIGHUP, a ``HANGUP`` line, ``511``, ``result=-1``, end of
input, a broken pipe) ``answer()`` and ``perform()`` return ``HungUp``. A protocol error
(510, 520, garbage) is logged, without the line during a secure gather, kept as
``AgiLine.failure``, and answered ``HungUp`` too: the call is recorded as left at its node
and handed back to the dialplan, which routes the caller somewhere safe.

``result=-1`` alone is checked with ``CHANNEL STATUS`` first: Asterisk 22 also answers a
prompt file it cannot find with -1, on a live channel; the call then goes on (a warning is
logged). Asterisk remembers that failure: the AGI ends with ``AGISTATUS=FAILURE`` although
``IVR_OUTCOME`` is set, so a dialplan must read ``IVR_OUTCOME`` before ``AGISTATUS``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from ivr.flow import actions as act
from ivr.flow.events import Event, HungUp
from ivr.flow.state import QUEUED, TRANSFERRED
from ivr.phone.asterisk import agi_protocol as proto
from ivr.phone.asterisk.agi_player import AgiPlayer
from ivr.phone.asterisk.agi_protocol import AgiError
from ivr.phone.line import CallerGone
from ivr.phone.step import Performer, Turn, perform_step

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Call data mirrored into channel variables (IVR_<NAME>) for the dialplan; account
#: numbers and names stay out of Asterisk's logs.
MIRRORED = frozenset({"language", "reason", "verified"})


class AgiDriver(AgiPlayer):
    """Plays a session's actions on an ``AgiLine`` and feeds the caller's answers back;
    ``AgiDriver(line, call_id)``."""

    def answer(self) -> Event | None:
        return self.guarded("ANSWER", self._do, proto.answer())

    def perform(self, actions: list[act.Action], at: str) -> Event | act.Enqueue | None:
        """Do the actions; the caller's answer to a closing ``Gather``, the ``Enqueue``
        performed, or None. A key typed ahead during the plays (``act.typed_ahead_into``)
        ends them and answers it."""
        return self.guarded(at, self._perform, actions)

    def guarded(self, where: str, work: Callable[..., T], *args: Any) -> T | HungUp:
        """``work(*args)``, with the caller leaving or a protocol error turned into
        ``HungUp``."""
        try:
            return work(*args)
        except CallerGone as left:
            logger.info("call %s: the caller hung up at %s (%s)", self.call_id, where, left.reason)
            return HungUp()
        except AgiError as exc:
            self.line.failure = exc
            if self.line.secure:  # the line may hold PIN digits: say what went wrong, not it
                logger.error(
                    "call %s at %s: %s (%s) during a secure gather, line not logged; "
                    "back to the dialplan",
                    *(self.call_id, where, type(exc).__name__, exc.reason),
                )
            else:
                logger.error("call %s at %s: %s; back to the dialplan", self.call_id, where, exc)
            return HungUp()
        finally:
            self.line.secure = False

    def _perform(self, actions: list[act.Action]) -> Event | act.Enqueue | None:
        return perform_step(self, actions, PERFORMERS)


# -- one performer per line action ----------------------------------------------------------


def _play(driver: AgiDriver, play: act.Play, turn: Turn) -> None:
    if not turn.typed:
        turn.typed = driver._announce(play, turn.ahead)


def _gather(driver: AgiDriver, gather: act.Gather, turn: Turn) -> Event:
    return driver._gather(gather, turn.typed)


def _set_data(driver: AgiDriver, data: act.SetData, turn: Turn) -> None:
    if data.name in MIRRORED:  # no personal data in channel variables
        driver.set(proto.variable_name(data.name), data.value)


def _enqueue(driver: AgiDriver, enqueue: act.Enqueue, turn: Turn) -> None:
    driver.set("QUEUE", enqueue.queue)
    driver.set("PRIORITY", str(enqueue.priority))
    driver.set("SKILL", enqueue.skill)
    driver.set("CALLBACK", enqueue.callback)
    driver.set("LANGUAGE", enqueue.language)
    driver.set("OUTCOME", QUEUED)  # last: the dialplan acts on a complete set
    turn.enqueued = enqueue


def _transfer(driver: AgiDriver, transfer: act.Transfer, turn: Turn) -> None:
    driver.set("TRANSFER", transfer.to)
    driver.set("OUTCOME", TRANSFERRED)


def _record(driver: AgiDriver, record: act.Record, turn: Turn) -> Event:
    return driver.record(record)


def _hangup(driver: AgiDriver, hangup: act.Hangup, turn: Turn) -> None:
    driver.set("OUTCOME", hangup.outcome)
    driver.hang_up()


#: What the driver does for each line action (the engine's ``RunAction`` is not one).
PERFORMERS: dict[type[act.Action], Performer[AgiDriver]] = {
    act.Play: _play,
    act.Gather: _gather,
    act.SetData: _set_data,
    act.Enqueue: _enqueue,
    act.Transfer: _transfer,
    act.Hangup: _hangup,
    act.Record: _record,
}
