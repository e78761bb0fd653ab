"""How amounts and dates are said in each language."""

from __future__ import annotations

from datetime import datetime

_CURRENCY_EN = {"CNY": "yuan", "USD": "dollars", "EUR": "euros", "HKD": "Hong Kong dollars"}
_CURRENCY_ZH = {"CNY": "元", "USD": "美元", "EUR": "欧元", "HKD": "港币"}
_MONTHS_EN = (
    "January February March April May June July August September October November December"
).split()


def money(amount_minor: int, currency: str, language: str) -> str:
    """``89.90 yuan`` / ``89.90元``."""
    major, minor = divmod(abs(amount_minor), 100)
    sign = "-" if amount_minor < 0 else ""
    number = f"{sign}{major}.{minor:02d}"
    if language == "zh":
        return f"{number}{_CURRENCY_ZH.get(currency, currency)}"
    return f"{number} {_CURRENCY_EN.get(currency, currency)}"


def day(when: datetime, language: str) -> str:
    """``November 20`` / ``11月20日``."""
    if language == "zh":
        return f"{when.month}月{when.day}日"
    return f"{_MONTHS_EN[when.month - 1]} {when.day}"
