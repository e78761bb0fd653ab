"""An in-memory wallet with the demo accounts, behind the same ports a database or a real
wallet backend implements. Used by the terminal phone until the account store lands."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime

from ivr.services import ports
from ivr.services.demo import DEMO_ACCOUNTS

PIN_ITERATIONS = 120_000


def hash_pin(pin: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, PIN_ITERATIONS)


class SystemClock(ports.Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)


class MemoryWallet(ports.Accounts, ports.VerificationLog, ports.Requests):
    """Holds accounts, failed payments and every request in dictionaries."""

    def __init__(self) -> None:
        self.accounts: dict[str, ports.Account] = {}
        self.pins: dict[str, tuple[bytes, bytes]] = {}
        self.payments: dict[str, ports.FailedPayment] = {}
        self.failures: dict[str, list[datetime]] = defaultdict(list)
        self.reset_codes: dict[str, tuple[str, datetime]] = {}
        self.outbox: list[tuple[str, str]] = []
        self.confirmations: dict[tuple[str, str], int] = defaultdict(int)
        self.closures: dict[str, str] = {}
        self.incidents: list[tuple[str, str, str, str]] = []
        self._serial = itertools.count(1)

    @classmethod
    def with_demo_accounts(cls) -> MemoryWallet:
        wallet = cls()
        for demo in DEMO_ACCOUNTS:
            wallet.add(
                ports.Account(
                    demo.number,
                    demo.holder_name,
                    demo.phone,
                    demo.language,
                    demo.status,
                    demo.balance_minor,
                    demo.currency,
                ),
                demo.pin,
            )
            if demo.failed_payment:
                amount, merchant, at, reason = demo.failed_payment
                wallet.payments[demo.number] = ports.FailedPayment(
                    amount, demo.currency, merchant, at, reason
                )
        return wallet

    def add(self, account: ports.Account, pin: str) -> None:
        salt = os.urandom(16)
        self.accounts[account.number] = account
        self.pins[account.number] = (salt, hash_pin(pin, salt))

    # Accounts
    def get(self, number: str) -> ports.Account | None:
        return self.accounts.get(number)

    def pin_matches(self, number: str, pin: str) -> bool:
        salt, stored = self.pins.get(number, (b"", b""))
        return bool(stored) and hmac.compare_digest(stored, hash_pin(pin, salt))

    def latest_failed_payment(self, number: str) -> ports.FailedPayment | None:
        return self.payments.get(number)

    def set_status(self, number: str, status: str) -> None:
        self.accounts[number] = replace(self.accounts[number], status=status)

    # VerificationLog
    def record_failure(self, number: str, ani: str, at: datetime) -> None:
        self.failures[number].append(at)

    def failures_since(self, number: str, since: datetime) -> list[datetime]:
        return [t for t in self.failures.get(number, []) if t >= since]

    # Requests
    def reset_code(self, number: str, code_hash: str, expires: datetime) -> None:
        self.reset_codes[number] = (code_hash, expires)

    def send_sms(self, to: str, text: str) -> None:
        self.outbox.append((to, text))

    def closure_confirmed(self, number: str, call_id: str) -> int:
        self.confirmations[(number, call_id)] += 1
        return self.confirmations[(number, call_id)]

    def close(self, number: str, call_id: str) -> str:
        self.set_status(number, ports.CLOSED)
        reference = f"{next(self._serial) + 70_000_000:08d}"
        self.closures[number] = reference
        return reference

    def open_incident(self, number: str, kind: str, call_id: str) -> str:
        reference = f"{next(self._serial) + 50_000:06d}"
        self.incidents.append((reference, number, kind, call_id))
        return reference
