"""The demo wallet accounts: one for every path through the hotline (listed in README)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class DemoAccount:
    number: str
    pin: str
    holder_name: str
    phone: str
    language: str
    status: str
    balance_minor: int
    currency: str
    failed_payment: tuple[int, str, datetime, str] | None  # amount, merchant, when, reason
    story: str
    #: Transactions besides the failed payment's story: amount, merchant, when, status.
    more_transactions: tuple[tuple[int, str, datetime, str], ...] = ()


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "10000001",
        "246810",
        "Li Wei",
        "+8613800138001",
        "zh",
        "active",
        125_000,
        "CNY",
        (8_990, "Fresh Mart", datetime(2026, 11, 20, 9, 14, tzinfo=UTC), "insufficient_funds"),
        "failed payment: insufficient funds; closure refused (balance 1250.00 CNY)",
    ),
    DemoAccount(
        "10000002",
        "135790",
        "Emma Walker",
        "+14155550102",
        "en",
        "active",
        0,
        "USD",
        (
            45_000,
            "Skyline Electronics",
            datetime(2026, 11, 21, 18, 2, tzinfo=UTC),
            "risk_control_hold",
        ),
        "failed payment: risk-control hold; closure allowed (zero balance)",
    ),
    DemoAccount(
        "10000003",
        "112233",
        "Zhang Min",
        "+8613900139003",
        "zh",
        "active",
        0,
        "CNY",
        None,
        "no failed payment; closure allowed (zero balance)",
    ),
    DemoAccount(
        "10000004",
        "445566",
        "Chen Jie",
        "+8613700137004",
        "zh",
        "frozen",
        30_000,
        "CNY",
        None,
        "already frozen",
    ),
    DemoAccount(
        "10000005",
        "778899",
        "Omar Haddad",
        "+447700900105",
        "en",
        "active",
        320_000,
        "USD",
        (12_500, "City Rail", datetime(2026, 11, 18, 7, 45, tzinfo=UTC), "card_expired"),
        "failed payment: expired card; closure refused (balance 3200.00 USD); "
        "five transactions, the last three pending, failed, refunded",
        (
            (2_350, "Corner Cafe", datetime(2026, 11, 19, 8, 30, tzinfo=UTC), "pending"),
            (6_000, "Book Nook", datetime(2026, 11, 17, 16, 5, tzinfo=UTC), "refunded"),
        ),
    ),
)

#: A caller number that matches no account.
UNKNOWN_CALLER = "+15550000000"
