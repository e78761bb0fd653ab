"""Sending the SMS outbox (password-reset codes) through a channel's ``send`` function.

Each round claims queued rows (``queued -> sending``, committed before anything is
sent, so two senders never send one row twice), sends each, and records the outcome
(``sent`` with its time, or ``failed``). A transient failure (the provider's 5xx or 429,
a network error) is retried a few times with a short pause; a refusal (a 4xx: a bad
number, say) fails the row at once. A row is never deleted. A process that dies between
claiming and recording leaves its rows ``sending``: they are not resent automatically,
since the provider may already have taken them.

A body holds a password-reset code, so it is kept only while it may still be sent: a
finished row (``sent``, ``failed``) keeps ``redacted(body)``, a description with its
length. A message lives as long as its code (``LIFETIME``): each round first expires the
rows older than that (``queued -> expired``, redacted; a stuck ``sending`` row is
redacted too), and a message is never sent, nor tried again, once its time is up. Every
time is the injected clock's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta

from ivr.errors import IvrError
from ivr.services import ports
from ivr.services.wallet_actions import RESET_CODE_TTL

logger = logging.getLogger(__name__)

#: Pauses before the second and third tries of a transient failure.
BACKOFF = (0.5, 1.0)
BATCH = 20
#: How long a queued message may wait: its reset code's own lifetime.
LIFETIME = RESET_CODE_TTL
#: How a redacted body starts (and how a redacted one is recognised).
REDACTED = "[redacted]"


def redacted(body: str) -> str:
    """What is kept of a body once it is sent, failed or expired: nothing of its text."""
    if body.startswith(REDACTED):
        return body
    return f"{REDACTED} password-reset SMS, {len(body)} characters"


class SmsNotSent(IvrError):
    """The channel did not take the message; ``transient``: worth trying again."""

    def __init__(self, reason: str, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


#: ``send(to, body)`` returns the provider's message id, or raises ``SmsNotSent``.
Send = Callable[[str, str], str]


def not_configured(to: str, body: str) -> str:
    """The channel of a sender that only expires messages (no SMS provider is set up)."""
    raise SmsNotSent("no SMS channel is configured", transient=False)


class OutboxSender:
    def __init__(
        self,
        unit_of_work: Callable[[], ports.UnitOfWork],
        clock: ports.Clock,
        send: Send,
        backoff: Sequence[float] = BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
        lifetime: timedelta = LIFETIME,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock
        self.send = send
        self.backoff = tuple(backoff)
        self.sleep = sleep
        self.lifetime = lifetime

    def expire(self) -> list[int]:
        """Expire the messages older than their lifetime (and redact them); their ids."""
        with self.unit_of_work() as uow:
            expired = uow.outbox.expire(self.clock.now() - self.lifetime)
            uow.commit()
        for sms_id in expired:
            logger.warning("sms %d: not sent within %s; expired", sms_id, self.lifetime)
        return expired

    def send_queued(self, limit: int = BATCH) -> dict[int, str]:
        """One round: the rows this sender expired or claimed, each with its final
        status."""
        outcome = dict.fromkeys(self.expire(), "expired")
        with self.unit_of_work() as uow:
            claimed = uow.outbox.claim(limit, self.clock.now() - self.lifetime)
            uow.commit()
        for sms in claimed:
            status = self._deliver(sms)
            with self.unit_of_work() as uow:
                uow.outbox.finish(sms.id, status, self.clock.now())
                uow.commit()
            outcome[sms.id] = status
        return outcome

    def _expired(self, sms: ports.QueuedSms) -> bool:
        return self.clock.now() >= sms.created_at + self.lifetime

    def _deliver(self, sms: ports.QueuedSms) -> str:
        pauses = (*self.backoff, None)
        for attempt, pause in enumerate(pauses, start=1):
            if self._expired(sms):
                logger.warning("sms %d: its code expired before it was sent", sms.id)
                return "expired"
            try:
                message_id = self.send(sms.to, sms.body)
            except SmsNotSent as exc:
                logger.warning("sms %d: attempt %d not sent: %s", sms.id, attempt, exc.reason)
                if not exc.transient or pause is None:
                    return "failed"
                self.sleep(pause)
            else:
                logger.info("sms %d: sent as %s", sms.id, message_id)
                return "sent"
        return "failed"
