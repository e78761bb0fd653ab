"""Who the caller is: the ``verify`` node's PIN check, its lockout and throttle, and the
verified account the wallet actions (``wallet_actions``) act on.

``verify_identity`` is the exception to "one unit of work" (``usecases``): the PIN check
is slow on purpose (scrypt), so it reads in one short unit of work, compares with none
open (no connection, no SQLite writer lock held), and records the attempt in a second one,
where the account is held (``Accounts.lock``) while its lockout is decided.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from ivr.flow.events import Result
from ivr.services import ports
from ivr.services.lockout import Lockout

LOCK_AFTER_FAILURES = 5
LOCK_WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=30)
THROTTLE_ACCOUNTS = 3  # distinct accounts failed from one caller number...
THROTTLE_WINDOW = timedelta(hours=1)  # ...within this long: that number is refused
PIN_LOCKOUT = Lockout(LOCK_AFTER_FAILURES, LOCK_WINDOW, LOCK_DURATION)


def verify_identity(
    unit_of_work: Callable[[], ports.UnitOfWork],
    clock: ports.Clock,
    pins: ports.PinChecker,
    args: Mapping[str, str],
) -> Result:
    """The ``verify`` node: ``success`` (with the account's number, holder and status),
    ``failure``, ``locked``, or ``closed`` (the right PIN of a closed account: its owner is
    told, and is not verified); every attempt is recorded.

    A closed account's PIN is checked like any other (timing tells nothing), and only the
    right PIN says ``closed``: a wrong one is a plain ``failure``, as for a number nobody
    has, so that a stranger cannot learn which numbers are closed."""
    number, ani, call_id, pin = (
        args.get("account_number", ""),
        args.get("ani", ""),
        args.get("call_id", ""),
        args.get("pin", ""),
    )
    now = clock.now()
    with unit_of_work() as uow:
        if ani and _throttled(uow, ani, number, now):
            uow.audit.record(now, call_id, None, "verification_throttled", {"ani": ani})
            uow.commit()
            return Result("locked")
        if number and _locked(uow, number, now):
            return Result("locked")
        stored = uow.accounts.pin_hash(number) if number else None
    # The slow part, with nothing held. Always done (also for unknown numbers) so
    # timing tells nothing.
    pin_ok = pins.matches(pin, stored)
    upgraded = pins.upgraded(pin, stored) if pin_ok and stored else None
    with unit_of_work() as uow:
        account = uow.accounts.lock(number) if number else None
        if account is not None and _locked(uow, number, now):
            return Result("locked")  # reached by other checks while this one hashed
        if account is not None and account.status == ports.CLOSED and not pin_ok:
            account = None  # a wrong PIN on a closed account: as for a number nobody has
        ok = account is not None and pin_ok
        uow.verifications.record(number, ani, call_id, now, ok)
        if ok and account is not None:
            if upgraded is not None and stored is not None:
                uow.accounts.replace_pin_hash(number, stored, upgraded)
            if account.status == ports.CLOSED:  # its owner: told so, but not verified
                uow.audit.record(now, call_id, number, "verification_closed_account", {})
                uow.commit()
                return Result("closed")
            uow.commit()
            return Result("success", _verified_data(account))
        if account is not None and _locked(uow, number, now):
            incident = uow.requests.open_incident(number, "verification_lockout", call_id, now)
            detail = {"incident": incident}
            uow.audit.record(now, call_id, number, "verification_locked", detail)
            uow.commit()
            return Result("locked")
        uow.commit()
        return Result("failure")


def _verified_data(account: ports.Account) -> dict[str, str]:
    """What a verified call knows of the account; ``account_status`` lets the flow send a
    frozen account's owner to the security team."""
    status = "frozen" if account.status == ports.FROZEN else "active"
    return {
        "account_number": account.number,
        "holder_name": account.holder_name,
        "account_status": status,
    }


def _locked(uow: ports.UnitOfWork, number: str, now: datetime) -> bool:
    failures = uow.verifications.failures_since(number, now - PIN_LOCKOUT.lookback)
    return PIN_LOCKOUT.locked(failures, now)


def _throttled(uow: ports.UnitOfWork, ani: str, number: str, now: datetime) -> bool:
    tried = uow.verifications.accounts_failed_from(ani, now - THROTTLE_WINDOW)
    return len(tried - {number}) >= THROTTLE_ACCOUNTS


def verified(uow: ports.UnitOfWork, args: Mapping[str, str]) -> ports.Account:
    """The account the caller verified as (``verified_account``); refused otherwise."""
    if args.get("verified") != "yes" or not args.get("verified_account"):
        raise PermissionError("use case called for a caller who is not verified")
    account = uow.accounts.get(args["verified_account"])
    if account is None:
        raise LookupError("verified account has disappeared")
    return account
