"""Sending the SMS outbox (password-reset codes) through a channel's ``send`` function.

Each round claims queued rows (``queued -> sending``, committed before anything is
sent, so two senders never send one row twice), sends each, and records the outcome
(``sent`` with its time, or ``failed``). A transient failure (the provider's 5xx or 429,
a network error) is retried a few times with a short pause; a refusal (a 4xx: a bad
number, say) fails the row at once. A row is never deleted. A process that dies between
claiming and recording leaves its rows ``sending``: they are not resent automatically,
since the provider may already have taken them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from ivr.errors import IvrError
from ivr.services import ports

logger = logging.getLogger(__name__)

#: Pauses before the second and third tries of a transient failure.
BACKOFF = (0.5, 1.0)
BATCH = 20


class SmsNotSent(IvrError):
    """The channel did not take the message; ``transient``: worth trying again."""

    def __init__(self, reason: str, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


#: ``send(to, body)`` returns the provider's message id, or raises ``SmsNotSent``.
Send = Callable[[str, str], str]


class OutboxSender:
    def __init__(
        self,
        unit_of_work: Callable[[], ports.UnitOfWork],
        clock: ports.Clock,
        send: Send,
        backoff: Sequence[float] = BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock
        self.send = send
        self.backoff = tuple(backoff)
        self.sleep = sleep

    def send_queued(self, limit: int = BATCH) -> dict[int, str]:
        """One round: the rows this sender claimed, each with its final status."""
        with self.unit_of_work() as uow:
            claimed = uow.outbox.claim(limit)
            uow.commit()
        outcome = {}
        for sms in claimed:
            status = "sent" if self._deliver(sms) else "failed"
            with self.unit_of_work() as uow:
                uow.outbox.finish(sms.id, status, self.clock.now())
                uow.commit()
            outcome[sms.id] = status
        return outcome

    def _deliver(self, sms: ports.QueuedSms) -> bool:
        pauses = (*self.backoff, None)
        for attempt, pause in enumerate(pauses, start=1):
            try:
                message_id = self.send(sms.to, sms.body)
            except SmsNotSent as exc:
                logger.warning("sms %d: attempt %d not sent: %s", sms.id, attempt, exc.reason)
                if not exc.transient or pause is None:
                    return False
                self.sleep(pause)
            else:
                logger.info("sms %d: sent as %s", sms.id, message_id)
                return True
        return False
