"""The use cases behind ``verify`` and ``action`` nodes.

``UseCases.run`` takes the engine's ``RunAction`` and returns its ``Result``. Each use
case is one unit of work: its change and its audit row commit together or not at all.
A use case that fails (a bug, a database that went away, no connection free in time)
gives the ``error`` outcome, which every flow routes somewhere safe: a caller never hears
a crash.

``verify_identity`` is the exception to "one unit of work": the PIN check is slow on
purpose (scrypt), so it reads in one short unit of work, compares with none open (no
connection, no SQLite writer lock held), and records the attempt in a second one, where
the account is held (``Accounts.lock``) while its lockout is decided.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from ivr.flow.actions import RunAction
from ivr.flow.events import Result
from ivr.flow.model import ERROR_OUTCOME, VERIFY_ACTION
from ivr.services import ports, tokens, wording
from ivr.services.call_records import CallRecorder
from ivr.services.lockout import Lockout

logger = logging.getLogger(__name__)

LOCK_AFTER_FAILURES = 5
LOCK_WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=30)
THROTTLE_ACCOUNTS = 3  # distinct accounts failed from one caller number...
THROTTLE_WINDOW = timedelta(hours=1)  # ...within this long: that number is refused
RESET_CODE_TTL = timedelta(minutes=15)
PIN_LOCKOUT = Lockout(LOCK_AFTER_FAILURES, LOCK_WINDOW, LOCK_DURATION)

_SMS = {
    "en": "Your wallet password reset code is {code}. It expires in 15 minutes. "
    "We will never ask you to tell anyone this code.",
    "zh": "您的钱包密码重置验证码是{code},15分钟内有效。我们绝不会向您索要此验证码。",
}


def reset_code_hash(secret: bytes, account_number: str, code: str) -> str:
    """What a password-reset code is stored as: keyed with the server secret."""
    return tokens.keyed_hash(secret, "reset-code", f"{account_number}:{code}")


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
    ) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock
        self.secret = secret
        self.pins = pins
        self.recorder = recorder or CallRecorder(unit_of_work)
        self._handlers: dict[str, Handler] = {
            "lookup_failed_payment": self.lookup_failed_payment,
            "send_reset_code": self.send_reset_code,
            "check_closure": self.check_closure,
            "record_closure_confirmation": self.record_closure_confirmation,
            "close_account": self.close_account,
            "freeze_account": self.freeze_account,
        }
        self._services: dict[str, ServiceHandler] = {VERIFY_ACTION: self.verify_identity}

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

    def record_call(self, record: ports.CallRecord) -> bool:
        """Keep a version of a call's record (``CallRecorder.keep``): in the database, else
        in the spool; False (counted and logged) if it is lost. Never raises."""
        return self.recorder.keep(record)

    # -- identity ----------------------------------------------------------------------

    def verify_identity(self, args: Mapping[str, str]) -> Result:
        number, ani, call_id, pin = (
            args.get("account_number", ""),
            args.get("ani", ""),
            args.get("call_id", ""),
            args.get("pin", ""),
        )
        now = self.clock.now()
        with self.unit_of_work() as uow:
            if ani and self._throttled(uow, ani, number, now):
                uow.audit.record(now, call_id, None, "verification_throttled", {"ani": ani})
                uow.commit()
                return Result("locked")
            if number and self._locked(uow, number, now):
                return Result("locked")
            stored = uow.accounts.pin_hash(number) if number else None
        # The slow part, with nothing held. Always done (also for unknown numbers) so
        # timing tells nothing.
        pin_ok = self.pins.matches(pin, stored)
        upgraded = self.pins.upgraded(pin, stored) if pin_ok and stored else None
        with self.unit_of_work() as uow:
            account = uow.accounts.lock(number) if number else None
            if account is not None and self._locked(uow, number, now):
                return Result("locked")  # reached by other checks while this one hashed
            if account is not None and account.status == ports.CLOSED:
                account = None  # a closed account cannot be used on the hotline
            ok = account is not None and pin_ok
            uow.verifications.record(number, ani, call_id, now, ok)
            if ok and account is not None:
                if upgraded is not None and stored is not None:
                    uow.accounts.replace_pin_hash(number, stored, upgraded)
                uow.commit()
                data = {"account_number": number, "holder_name": account.holder_name}
                return Result("success", data)
            if account is not None and self._locked(uow, number, now):
                incident = uow.requests.open_incident(number, "verification_lockout", call_id, now)
                detail = {"incident": incident}
                uow.audit.record(now, call_id, number, "verification_locked", detail)
                uow.commit()
                return Result("locked")
            uow.commit()
            return Result("failure")

    @staticmethod
    def _locked(uow: ports.UnitOfWork, number: str, now: datetime) -> bool:
        failures = uow.verifications.failures_since(number, now - PIN_LOCKOUT.lookback)
        return PIN_LOCKOUT.locked(failures, now)

    @staticmethod
    def _throttled(uow: ports.UnitOfWork, ani: str, number: str, now: datetime) -> bool:
        tried = uow.verifications.accounts_failed_from(ani, now - THROTTLE_WINDOW)
        return len(tried - {number}) >= THROTTLE_ACCOUNTS

    @staticmethod
    def _verified(uow: ports.UnitOfWork, args: Mapping[str, str]) -> ports.Account:
        if args.get("verified") != "yes" or not args.get("verified_account"):
            raise PermissionError("use case called for a caller who is not verified")
        account = uow.accounts.get(args["verified_account"])
        if account is None:
            raise LookupError("verified account has disappeared")
        return account

    # -- wallet ------------------------------------------------------------------------

    def lookup_failed_payment(
        self, uow: ports.UnitOfWork, args: Mapping[str, str], now: datetime
    ) -> Result:
        account = self._verified(uow, args)
        payment = uow.accounts.latest_failed_payment(account.number)
        call_id = args.get("call_id", "")
        uow.audit.record(now, call_id, account.number, "failed_payment_looked_up", {})
        uow.commit()
        if payment is None:
            return Result("none")
        lang = args.get("language", "en")
        return Result(
            "found",
            {
                "amount": wording.money(payment.amount_minor, payment.currency, lang),
                "merchant": payment.merchant,
                "date": wording.day(payment.at, lang),
                "failure_reason": payment.reason,
            },
        )

    def send_reset_code(
        self, uow: ports.UnitOfWork, args: Mapping[str, str], now: datetime
    ) -> Result:
        account = self._verified(uow, args)
        if not account.phone:
            return Result("no_phone")
        code = f"{secrets.randbelow(10**6):06d}"
        digest = reset_code_hash(self.secret(), account.number, code)
        uow.requests.reset_code(account.number, digest, now, now + RESET_CODE_TTL)
        template = _SMS.get(account.language, _SMS["en"])
        uow.requests.send_sms(account.phone, template.format(code=code), now)
        detail = {"to_last4": account.phone[-4:]}
        uow.audit.record(now, args.get("call_id", ""), account.number, "reset_code_sent", detail)
        uow.commit()
        return Result("sent", {"phone_last4": account.phone[-4:]})

    def check_closure(
        self, uow: ports.UnitOfWork, args: Mapping[str, str], now: datetime
    ) -> Result:
        account = self._verified(uow, args)
        uow.audit.record(now, args.get("call_id", ""), account.number, "closure_checked", {})
        uow.commit()
        if account.status == ports.CLOSED:
            return Result("already_closed")
        if account.balance_minor != 0:
            lang = args.get("language", "en")
            balance = wording.money(account.balance_minor, account.currency, lang)
            return Result("balance_not_zero", {"balance": balance})
        return Result("allowed")

    def record_closure_confirmation(
        self, uow: ports.UnitOfWork, args: Mapping[str, str], now: datetime
    ) -> Result:
        account = self._verified(uow, args)
        call_id = args.get("call_id", "")
        count = uow.requests.confirm_closure(account.number, call_id, now)
        uow.audit.record(now, call_id, account.number, "closure_confirmed", {"count": count})
        uow.commit()
        return Result("recorded")

    def close_account(
        self, uow: ports.UnitOfWork, args: Mapping[str, str], now: datetime
    ) -> Result:
        """The second, final confirmation: refused unless the first was recorded."""
        account = self._verified(uow, args)
        if account.status == ports.CLOSED:
            raise PermissionError("the account is already closed")
        if account.balance_minor != 0:
            return Result("balance_not_zero")
        call_id = args.get("call_id", "")
        if uow.requests.closure_confirmations(account.number, call_id) < 1:
            raise PermissionError("closure needs the first confirmation in the same call")
        uow.requests.confirm_closure(account.number, call_id, now)
        reference = uow.requests.close(account.number, call_id, now)
        uow.accounts.set_status(account.number, ports.CLOSED)
        uow.audit.record(now, call_id, account.number, "account_closed", {"reference": reference})
        uow.commit()
        return Result("closed", {"reference": reference})

    def freeze_account(
        self, uow: ports.UnitOfWork, args: Mapping[str, str], now: datetime
    ) -> Result:
        account = self._verified(uow, args)
        call_id = args.get("call_id", "")
        was_frozen = account.status == ports.FROZEN
        if not was_frozen:
            uow.accounts.set_status(account.number, ports.FROZEN)
        incident = uow.requests.open_incident(account.number, "fraud_report", call_id, now)
        detail = {"incident": incident, "was_frozen": was_frozen}
        uow.audit.record(now, call_id, account.number, "account_frozen", detail)
        uow.commit()
        return Result("already_frozen" if was_frozen else "frozen", {"incident": incident})
