"""How one filled-in value of a prompt is spoken (pure).

The placeholder's name says what kind of value it is; a name this module does not know
is judged by the value's shape. English numbers go to Asterisk's SAY NUMBER / SAY DIGITS
(its own core sounds); Mandarin is assembled from rendered fragments.

- digits (reference, incident, phone_last4, last4, code, number): English
  ``SayDigits("8001")``; Mandarin one fragment a digit, 1 read 幺 as Chinese hotlines do
  (八零零幺).
- number (position, minutes): a count. English ``SayNumber(12)``; Mandarin 十二.
- money (amount, balance): English [minus] ``SayNumber(89)``, point, ``SayDigits("90")``,
  the currency word (yuan); Mandarin 八十九点九零 then the currency (元).
- date (date): English the month's name then ``SayNumber(20)``; Mandarin 十一 月 二十 日.
- text (merchant, any other name whose value fits no shape): rendered on demand.

Money: ``89.90 yuan`` is "eighty-nine point nine zero yuan", as written; cents of ``.00``
are not read (``89.00 yuan`` is "eighty-nine yuan", 89.00元 is 八十九元). A value not in the
shape its kind expects (``12.00 GBP``, a reference with letters) is spoken as free text.
Free text cannot be pre-rendered: it goes to the ``render_text`` callable the driver
injects (``ivr.audio.render.dynamic_renderer``); without one it is skipped, with a warning.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from ivr.audio import chinese, fragments
from ivr.audio.steps import PlayFile, SayDigits, SayNumber, Step

log = logging.getLogger(__name__)

#: Renders free text in a language to a playable file (None: it could not).
Renderer = Callable[[str, str], PlayFile | None]

DIGITS, NUMBER, MONEY, DATE, TEXT = "digits", "number", "money", "date", "text"
KINDS = {
    "reference": DIGITS,
    "incident": DIGITS,
    "phone_last4": DIGITS,
    "last4": DIGITS,
    "code": DIGITS,
    "number": DIGITS,
    "position": NUMBER,
    "minutes": NUMBER,
    "amount": MONEY,
    "balance": MONEY,
    "date": DATE,
    "merchant": TEXT,
}

_NUMBER = r"(-?)([0-9]+)(?:\.([0-9]+))?"
_MONEY = {"en": re.compile(_NUMBER + r" (.+)"), "zh": re.compile(_NUMBER + r" ?(\D+)")}
_DATE = {
    "en": re.compile(r"([A-Za-z]+) ([0-9]{1,2})"),
    "zh": re.compile(r"([0-9]{1,2})月([0-9]{1,2})日"),
}


def kind(name: str, value: str) -> str:
    """The kind of a value: by its placeholder's name, else by its shape."""
    if name in KINDS:
        return KINDS[name]
    if chinese.is_digits(value):
        return DIGITS
    if any(pattern.fullmatch(value) for pattern in _MONEY.values()):
        return MONEY
    if any(pattern.fullmatch(value) for pattern in _DATE.values()):
        return DATE
    return TEXT


def say(name: str, value: str, language: str, render_text: Renderer | None = None) -> list[Step]:
    """The steps that speak the value of ``{name}`` in ``language``; nothing for ``""``."""
    value = value.strip()
    if not value:
        return []
    sayer = _SAYERS.get((kind(name, value), language))
    said = sayer(value) if sayer is not None else None
    return said if said is not None else _free_text(name, value, language, render_text)


def _free_text(name: str, value: str, language: str, render_text: Renderer | None) -> list[Step]:
    played = render_text(value, language) if render_text is not None else None
    if played is None:
        log.warning("cannot speak {%s} in %s: no audio for free text; skipped", name, language)
        return []
    return [played]


def _fragment(language: str, name: str) -> PlayFile:
    return PlayFile(fragments.path(language, name))


def _mandarin(chars: list[str]) -> list[Step]:
    return [_fragment("zh", fragments.MANDARIN_NAMES[char]) for char in chars]


def _digits_en(value: str) -> list[Step] | None:
    return [SayDigits(value)] if chinese.is_digits(value) else None


def _digits_zh(value: str) -> list[Step] | None:
    return _mandarin(chinese.digit_string(value)) if chinese.is_digits(value) else None


def _number_en(value: str) -> list[Step] | None:
    return [SayNumber(int(value))] if chinese.is_digits(value) else None


def _number_zh(value: str) -> list[Step] | None:
    if not chinese.is_digits(value) or int(value) >= chinese.LIMIT:
        return None
    return _mandarin(chinese.integer(int(value)))


def _money_en(value: str) -> list[Step] | None:
    match = _MONEY["en"].fullmatch(value)
    if match is None or match.group(4) not in fragments.CURRENCY_WORDS["en"]:
        return None
    currency = fragments.CURRENCY_WORDS["en"][match.group(4)]
    sign, whole, cents = match.group(1), match.group(2), match.group(3) or ""
    out: list[Step] = [_fragment("en", "minus")] if sign else []
    out.append(SayNumber(int(whole)))
    if cents.strip("0"):
        out += [_fragment("en", "point"), SayDigits(cents)]
    out.append(_fragment("en", currency))
    return out


def _money_zh(value: str) -> list[Step] | None:
    match = _MONEY["zh"].fullmatch(value)
    if match is None or match.group(4) not in fragments.CURRENCY_WORDS["zh"]:
        return None
    currency = fragments.CURRENCY_WORDS["zh"][match.group(4)]
    sign, whole, cents = match.group(1), match.group(2), match.group(3) or ""
    number = f"{sign}{whole}" + (f".{cents}" if cents.strip("0") else "")
    return [*_mandarin(chinese.decimal(number)), _fragment("zh", currency)]


def _date_en(value: str) -> list[Step] | None:
    match = _DATE["en"].fullmatch(value)
    if match is None:
        return None
    month, day = fragments.MONTH_NAMES.get(match.group(1).capitalize()), int(match.group(2))
    if month is None or not 1 <= day <= 31:
        return None
    return [_fragment("en", month), SayNumber(day)]


def _date_zh(value: str) -> list[Step] | None:
    match = _DATE["zh"].fullmatch(value)
    if match is None:
        return None
    month, day = int(match.group(1)), int(match.group(2))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return _mandarin([*chinese.integer(month), "月", *chinese.integer(day), "日"])


_SAYERS: dict[tuple[str, str], Callable[[str], list[Step] | None]] = {
    (DIGITS, "en"): _digits_en,
    (DIGITS, "zh"): _digits_zh,
    (NUMBER, "en"): _number_en,
    (NUMBER, "zh"): _number_zh,
    (MONEY, "en"): _money_en,
    (MONEY, "zh"): _money_zh,
    (DATE, "en"): _date_en,
    (DATE, "zh"): _date_zh,
}
