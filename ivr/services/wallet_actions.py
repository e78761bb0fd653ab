"""The wallet's use cases for a verified caller: a failed payment looked up, the latest
transactions read back, a password reset code sent by SMS, the account's closure
(checked, confirmed twice, done) and its freezing after a fraud report. Each is
``(uow, args, now) -> Result`` in one unit of work.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from ivr.flow.events import Result
from ivr.services import ports, tokens, wording
from ivr.services.registry import RECENT_TRANSACTIONS, TRANSACTION_STATUSES
from ivr.services.verification import verified

RESET_CODE_TTL = timedelta(minutes=15)

#: The text message with a password-reset code, by language.
RESET_CODE_SMS = {
    "en": "Your wallet password reset code is {code}. It expires in 15 minutes. "
    "We will never ask you to tell anyone this code.",
    "zh": "您的钱包密码重置验证码是{code}，15分钟内有效。"
    "请勿告诉他人，我们不会以任何理由向您索要验证码。",
}


def reset_code_hash(secret: bytes, account_number: str, code: str) -> str:
    """What a password-reset code is stored as: keyed with the server secret."""
    return tokens.keyed_hash(secret, "reset-code", f"{account_number}:{code}")


def lookup_failed_payment(uow: ports.UnitOfWork, args: Mapping[str, str], now: datetime) -> Result:
    account = verified(uow, args)
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


def recent_transactions(uow: ports.UnitOfWork, args: Mapping[str, str], now: datetime) -> Result:
    """The verified account's latest transactions (at most ``RECENT_TRANSACTIONS``),
    newest first: ``tx_count`` and ``tx<n>_amount``, ``_merchant``, ``_date``, ``_status``
    for each, said in the caller's language; ``none`` when it has none."""
    account = verified(uow, args)
    found = uow.accounts.recent_transactions(account.number, RECENT_TRANSACTIONS)
    found = found[:RECENT_TRANSACTIONS]  # a backend that gives more is not read further
    detail = {"count": len(found)}
    uow.audit.record(now, args.get("call_id", ""), account.number, "transactions_read", detail)
    uow.commit()
    if not found:
        return Result("none")
    lang = args.get("language", "en")
    data = {"tx_count": str(len(found))}
    for n, tx in enumerate(found, start=1):
        status = tx.status if tx.status in TRANSACTION_STATUSES else "other"
        data[f"tx{n}_amount"] = wording.money(tx.amount_minor, tx.currency, lang)
        data[f"tx{n}_merchant"] = tx.merchant
        data[f"tx{n}_date"] = wording.day(tx.at, lang)
        data[f"tx{n}_status"] = status
    return Result("found", data)


def send_reset_code(
    secret: Callable[[], bytes], uow: ports.UnitOfWork, args: Mapping[str, str], now: datetime
) -> Result:
    account = verified(uow, args)
    if not account.phone:
        return Result("no_phone")
    code = f"{secrets.randbelow(10**6):06d}"
    digest = reset_code_hash(secret(), account.number, code)
    uow.requests.reset_code(account.number, digest, now, now + RESET_CODE_TTL)
    template = RESET_CODE_SMS.get(account.language, RESET_CODE_SMS["en"])
    uow.requests.send_sms(account.phone, template.format(code=code), now)
    detail = {"to_last4": account.phone[-4:]}
    uow.audit.record(now, args.get("call_id", ""), account.number, "reset_code_sent", detail)
    uow.commit()
    return Result("sent", {"phone_last4": account.phone[-4:]})


def check_closure(uow: ports.UnitOfWork, args: Mapping[str, str], now: datetime) -> Result:
    account = verified(uow, args)
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
    uow: ports.UnitOfWork, args: Mapping[str, str], now: datetime
) -> Result:
    account = verified(uow, args)
    call_id = args.get("call_id", "")
    count = uow.requests.confirm_closure(account.number, call_id, now)
    uow.audit.record(now, call_id, account.number, "closure_confirmed", {"count": count})
    uow.commit()
    return Result("recorded")


def close_account(uow: ports.UnitOfWork, args: Mapping[str, str], now: datetime) -> Result:
    """The second, final confirmation: refused unless the first was recorded."""
    account = verified(uow, args)
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


def freeze_account(uow: ports.UnitOfWork, args: Mapping[str, str], now: datetime) -> Result:
    account = verified(uow, args)
    call_id = args.get("call_id", "")
    was_frozen = account.status == ports.FROZEN
    if not was_frozen:
        uow.accounts.set_status(account.number, ports.FROZEN)
    incident = uow.requests.open_incident(account.number, "fraud_report", call_id, now)
    detail = {"incident": incident, "was_frozen": was_frozen}
    uow.audit.record(now, call_id, account.number, "account_frozen", detail)
    uow.commit()
    return Result("already_frozen" if was_frozen else "frozen", {"incident": incident})
