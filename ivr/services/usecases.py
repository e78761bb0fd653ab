"""The use cases behind ``verify`` and ``action`` nodes.

``UseCases.run`` takes the engine's ``RunAction`` and returns its ``Result``. A use case
that fails (a bug, a backend that went away) gives the ``error`` outcome, which every
flow routes somewhere safe: a caller never hears a crash.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ivr.flow.actions import RunAction
from ivr.flow.events import Result
from ivr.flow.model import ERROR_OUTCOME, VERIFY_ACTION
from ivr.services import ports, wording

logger = logging.getLogger(__name__)

LOCK_AFTER_FAILURES = 5
LOCK_WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=30)
RESET_CODE_TTL = timedelta(minutes=15)

_SMS = {
    "en": "Your wallet password reset code is {code}. It expires in 15 minutes. "
    "We will never ask you to tell anyone this code.",
    "zh": "您的钱包密码重置验证码是{code},15分钟内有效。我们绝不会向您索要此验证码。",
}


@dataclass(frozen=True)
class Ports:
    accounts: ports.Accounts
    verifications: ports.VerificationLog
    requests: ports.Requests
    clock: ports.Clock


Handler = Callable[[Mapping[str, str]], Result]


class UseCases:
    def __init__(self, p: Ports) -> None:
        self.p = p
        self._handlers: dict[str, Handler] = {
            VERIFY_ACTION: self.verify_identity,
            "lookup_failed_payment": self.lookup_failed_payment,
            "send_reset_code": self.send_reset_code,
            "check_closure": self.check_closure,
            "record_closure_confirmation": self.record_closure_confirmation,
            "close_account": self.close_account,
            "freeze_account": self.freeze_account,
        }

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def run(self, action: RunAction) -> Result:
        handler = self._handlers.get(action.name)
        if handler is None:
            logger.error("no use case named %r (node %s)", action.name, action.node)
            return Result(ERROR_OUTCOME)
        try:
            return handler(action.args)
        except Exception:  # the caller must reach a safe route whatever broke
            logger.exception("use case %s failed at node %s", action.name, action.node)
            return Result(ERROR_OUTCOME)

    # -- identity ----------------------------------------------------------------------

    def verify_identity(self, args: Mapping[str, str]) -> Result:
        number, now = args.get("account_number", ""), self.p.clock.now()
        if number and self._locked(number, now):
            return Result("locked")
        account = self.p.accounts.get(number) if number else None
        if account is not None and self.p.accounts.pin_matches(number, args.get("pin", "")):
            return Result("success", {"account_number": number, "holder_name": account.holder_name})
        self.p.verifications.record_failure(number, args.get("ani", ""), now)
        if account is not None and self._locked(number, now):
            self.p.requests.open_incident(number, "verification_lockout", args.get("call_id", ""))
            return Result("locked")
        return Result("failure")

    def _locked(self, number: str, now: datetime) -> bool:
        since = now - LOCK_WINDOW - LOCK_DURATION
        failures = sorted(self.p.verifications.failures_since(number, since))
        n = LOCK_AFTER_FAILURES
        return any(
            failures[i + n - 1] - failures[i] <= LOCK_WINDOW
            and failures[i + n - 1] + LOCK_DURATION > now
            for i in range(len(failures) - n + 1)
        )

    def _verified(self, args: Mapping[str, str]) -> ports.Account:
        if args.get("verified") != "yes" or not args.get("verified_account"):
            raise PermissionError("use case called for a caller who is not verified")
        account = self.p.accounts.get(args["verified_account"])
        if account is None:
            raise LookupError("verified account has disappeared")
        return account

    # -- wallet ------------------------------------------------------------------------

    def lookup_failed_payment(self, args: Mapping[str, str]) -> Result:
        account = self._verified(args)
        payment = self.p.accounts.latest_failed_payment(account.number)
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

    def send_reset_code(self, args: Mapping[str, str]) -> Result:
        account = self._verified(args)
        if not account.phone:
            return Result("no_phone")
        code = f"{secrets.randbelow(10**6):06d}"
        digest = hashlib.sha256(f"{account.number}:{code}".encode()).hexdigest()
        self.p.requests.reset_code(account.number, digest, self.p.clock.now() + RESET_CODE_TTL)
        template = _SMS.get(account.language, _SMS["en"])
        self.p.requests.send_sms(account.phone, template.format(code=code))
        return Result("sent", {"phone_last4": account.phone[-4:]})

    def check_closure(self, args: Mapping[str, str]) -> Result:
        account = self._verified(args)
        if account.status == ports.CLOSED:
            return Result("already_closed")
        if account.balance_minor != 0:
            lang = args.get("language", "en")
            balance = wording.money(account.balance_minor, account.currency, lang)
            return Result("balance_not_zero", {"balance": balance})
        return Result("allowed")

    def record_closure_confirmation(self, args: Mapping[str, str]) -> Result:
        account = self._verified(args)
        self.p.requests.closure_confirmed(account.number, args.get("call_id", ""))
        return Result("recorded")

    def close_account(self, args: Mapping[str, str]) -> Result:
        account = self._verified(args)
        if account.balance_minor != 0:
            return Result("balance_not_zero")
        call_id = args.get("call_id", "")
        if self.p.requests.closure_confirmed(account.number, call_id) < 2:
            raise PermissionError("closure needs two confirmations in the same call")
        return Result("closed", {"reference": self.p.requests.close(account.number, call_id)})

    def freeze_account(self, args: Mapping[str, str]) -> Result:
        account = self._verified(args)
        was_frozen = account.status == ports.FROZEN
        if not was_frozen:
            self.p.accounts.set_status(account.number, ports.FROZEN)
        call_id = args.get("call_id", "")
        incident = self.p.requests.open_incident(account.number, "fraud_report", call_id)
        return Result("already_frozen" if was_frozen else "frozen", {"incident": incident})
