"""The use cases behind ``verify`` and ``action`` nodes.

``UseCases.run`` takes the engine's ``RunAction`` and returns its ``Result``. Each use
case is one unit of work: its change and its audit row commit together or not at all.
A use case that fails (a bug, a database that went away, no connection free in time)
gives the ``error`` outcome, which every flow routes somewhere safe: a caller never hears
a crash.

The use cases themselves live by concept: ``verification`` (the PIN check; the exception
to "one unit of work"), ``wallet_actions`` (what a verified caller may do) and
``complaints`` (a complaint opened, its status heard; ``complaint_standard`` gives the
standard of the flow in use, read at each use).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial

from ivr.flow.actions import RunAction
from ivr.flow.complaints import ComplaintStandard
from ivr.flow.events import Result
from ivr.flow.model import ERROR_OUTCOME, VERIFY_ACTION
from ivr.services import complaints, ports, verification, wallet_actions
from ivr.services.call_records import CallRecorder
from ivr.services.metrics import verification_failed

logger = logging.getLogger(__name__)

Handler = Callable[[ports.UnitOfWork, Mapping[str, str], datetime], Result]
#: A use case served by another service, which runs its own units of work.
ServiceHandler = Callable[[Mapping[str, str]], Result]


class UseCases:
    """``secret``: the server secret (``Settings.secret``), read when a reset code is
    first hashed; ``pins``: compares PINs with their stored form; ``recorder`` keeps call
    records (by default without a spool)."""

    def __init__(
        self,
        unit_of_work: Callable[[], ports.UnitOfWork],
        clock: ports.Clock,
        secret: Callable[[], bytes],
        pins: ports.PinChecker,
        recorder: CallRecorder | None = None,
        complaint_standard: Callable[[], ComplaintStandard] = ComplaintStandard,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock
        self.secret = secret
        self.pins = pins
        self.recorder = recorder or CallRecorder(unit_of_work)
        self.complaint_standard = complaint_standard
        self._handlers: dict[str, Handler] = {
            "lookup_failed_payment": wallet_actions.lookup_failed_payment,
            "recent_transactions": wallet_actions.recent_transactions,
            "send_reset_code": partial(wallet_actions.send_reset_code, secret),
            "check_closure": wallet_actions.check_closure,
            "record_closure_confirmation": wallet_actions.record_closure_confirmation,
            "close_account": wallet_actions.close_account,
            "freeze_account": wallet_actions.freeze_account,
            "open_complaint": self._with_standard(complaints.open_complaint),
            "complaint_status": self._with_standard(complaints.complaint_status),
        }
        self._services: dict[str, ServiceHandler] = {VERIFY_ACTION: self.verify_identity}
        #: Keeps a recording a driver made: ``(call_id, recording_id, location) -> kept``
        #: (``surveys.keep_recording``); None: recordings are not remembered.
        self.recordings: Callable[[str, str, str], bool] | None = None

    def _with_standard(
        self,
        use_case: Callable[
            [ComplaintStandard, ports.UnitOfWork, Mapping[str, str], datetime], Result
        ],
    ) -> Handler:
        """A complaint use case given the standard of the flow in use at each call."""
        return lambda uow, args, now: use_case(self.complaint_standard(), uow, args, now)

    def provide(self, name: str, handler: ServiceHandler) -> None:
        """Serve the use case ``name`` with another service (``resume_callback`` comes
        from the contact center); it runs under the same error guard as the others."""
        self._services[name] = handler

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._handlers) | frozenset(self._services)

    def run(self, action: RunAction) -> Result:
        handler = self._handlers.get(action.name)
        service = self._services.get(action.name)
        if handler is None and service is None:
            logger.error("no use case named %r (node %s)", action.name, action.node)
            return Result(ERROR_OUTCOME)
        try:
            if service is not None:
                return service(action.args)
            assert handler is not None
            with self.unit_of_work() as uow:
                return handler(uow, action.args, self.clock.now())
        except Exception:  # the caller must reach a safe route whatever broke
            logger.exception("use case %s failed at node %s", action.name, action.node)
            return Result(ERROR_OUTCOME)

    def record_call(self, record: ports.CallRecord, later: bool = False) -> bool:
        """Keep a version of a call's record (``CallRecorder.keep``): in the database, else
        in the spool; False (counted and logged) if it is lost. Never raises. ``later``:
        a version that may wait for a newer one (``CallRecorder.keep_later``)."""
        if later:
            return self.recorder.keep_later(record)
        return self.recorder.keep(record)

    def keep_recording(self, call_id: str, recording_id: str, location: str) -> bool:
        """Remember a recording (for its retention); never raises."""
        if self.recordings is None:
            return False
        return self.recordings(call_id, recording_id, location)

    def verify_identity(self, args: Mapping[str, str]) -> Result:
        """The ``verify`` node (``verification.verify_identity``); every outcome but
        ``success`` counts in ``ivr_verification_failures_total`` (a failed check that
        raised counts as ``error``)."""
        try:
            result = verification.verify_identity(self.unit_of_work, self.clock, self.pins, args)
        except Exception:
            verification_failed(ERROR_OUTCOME)
            raise
        if result.outcome != "success":
            verification_failed(result.outcome)
        return result
