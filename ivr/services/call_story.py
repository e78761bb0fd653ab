"""The screen pop in words (``CallStory``): who the caller is (the holder's name and the
account's status, read through the account port), whether they verified, why they called,
what the IVR already told them (the audit log's rows for the call say which wallet action
ran; the account port says what it found) and the path they took as readable steps.

It never holds a PIN, a reset code or a callback code: the audit rows it reads carry
none, and it copies only action names from them."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.services import ports
from ivr.services.contact_entries import Entry
from ivr.services.path_words import REASONS, step_words

#: A failed payment's reason, as an agent says it (registry.FAILURE_REASONS).
FAILURE_WORDS = {
    "insufficient_funds": "insufficient balance",
    "network_error": "a network error",
    "risk_control_hold": "held by risk control",
    "card_expired": "the card has expired",
    "merchant_error": "an error at the merchant",
    "limit_exceeded": "over the spending limit",
}
_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$"}
#: Audit actions of the IVR that say something the caller heard, in words.
TOLD = {
    "transactions_read": "Read the latest transactions back to the caller.",
    "reset_code_sent": "Sent a password reset code by SMS.",
    "closure_checked": "Checked whether the account can be closed.",
    "closure_confirmed": "The caller confirmed the closure.",
    "account_closed": "Closed the account at the caller's request.",
    "account_frozen": "Froze the account after a fraud report.",
    "complaint_opened": "Opened a complaint.",
    "complaint_status_heard": "Told the caller the status of their complaint.",
    "verification_locked": "Locked the account after too many wrong PINs.",
    "verification_throttled": "Refused verification: too many accounts tried from this number.",
    "verification_closed_account": "Told the caller the account is closed.",
    "callback_requested": "Took a callback request.",
    "callback_resumed": "The caller came back with a callback reference.",
}


@dataclass(frozen=True)
class CallStory:
    holder_name: str | None  # None: no account named (or verified) on this call
    account_status: str | None  # active | frozen | closed
    verified: bool
    verification: str  # in words
    reason: str  # in words
    told: tuple[str, ...]  # what the IVR said or did, one sentence each
    path: tuple[str, ...]  # the IVR's steps, in words


def money(amount_minor: int, currency: str) -> str:
    """``¥128.00`` (a symbol when the currency has one, else ``128.00 XYZ``)."""
    major, minor = divmod(abs(amount_minor), 100)
    sign = "-" if amount_minor < 0 else ""
    number = f"{sign}{major:,}.{minor:02d}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


def payment_sentence(payment: ports.FailedPayment | None) -> str:
    if payment is None:
        return "Told the caller: no failed payment was found."
    why = FAILURE_WORDS.get(payment.reason, payment.reason.replace("_", " "))
    amount = money(payment.amount_minor, payment.currency)
    return f"Told the caller: payment of {amount} to {payment.merchant} failed — {why}."


def story(uow: ports.UnitOfWork, entry: Entry) -> CallStory:
    """The story of the entry's call, read in the caller's unit of work."""
    number = entry.account_number
    account = uow.accounts.get(number) if number else None
    actions = uow.audit.actions(entry.call_id)
    told: list[str] = []
    for action in dict.fromkeys(actions):  # each once, in the order first done
        if action == "failed_payment_looked_up" and number:
            told.append(payment_sentence(uow.accounts.latest_failed_payment(number)))
        elif action in TOLD:
            told.append(TOLD[action])
    return CallStory(
        holder_name=account.holder_name if account else None,
        account_status=account.status if account else None,
        verified=number is not None,
        verification=_verification(entry, actions),
        reason=REASONS.get(entry.reason or "", (entry.reason or "not said").replace("_", " ")),
        told=tuple(told),
        path=step_words(entry.path),
    )


def _verification(entry: Entry, actions: list[str]) -> str:
    wrong = sum(1 for node in entry.path if node == "verify_failed")
    if entry.account_number is not None:
        tries = f" after {wrong} wrong {'try' if wrong == 1 else 'tries'}" if wrong else ""
        return f"Verified with account number and PIN{tries}."
    if "verification_locked" in actions:
        return "Not verified: locked after too many wrong PINs."
    if "verification_throttled" in actions:
        return "Not verified: too many accounts tried from this number."
    if wrong:
        return f"Not verified: {wrong} wrong {'try' if wrong == 1 else 'tries'}."
    if entry.kind == "callback":
        return "Not verified (a callback: check who answers)."
    return "Not verified: the caller did not identify."
