"""Numbers read out in Mandarin, as the characters a caller hears (pure).

``integer(1250)`` is ``一千二百五十``, ``decimal("89.90")`` is ``八十九点九零``,
``digit_string("8001")`` is ``八零零幺``. Each character is one rendered fragment
(``ivr.audio.fragments``), so a number is assembled from a handful of files.

Rules: groups of four digits (个, 万, 亿, 万亿); inside a group a run of zeros followed by a
non-zero digit reads as one 零 and trailing zeros are silent (105 一百零五, 110 一百一十);
a group under 1000 after a higher one starts with 零 (10001 一万零一, 100100 十万零一百), as
does any group after a group of all zeros (100000001 一亿零一); a number whose leading group
is 10-19 drops the leading 一 (10 十, 11 十一, 100000 十万) but not inside (110 一百一十).
Digits after the point are read one by one (``89.05`` 八十九点零五). A 2 is always 二
(banking style, never 两).
"""

from __future__ import annotations

import re

DIGITS = "零一二三四五六七八九"
#: How a digit string (a phone number, a reference) reads 1: 幺, as Chinese hotlines do.
YAO = "幺"
POINT = "点"
MINUS = "负"
_PLACES = ("千", "百", "十", "")
_GROUPS = ("", "万", "亿", "万亿")
_DECIMAL = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")
LIMIT = 10 ** (4 * len(_GROUPS))


def integer(n: int) -> list[str]:
    """The characters that say a whole number, e.g. ``1001`` -> 一千零一."""
    if n < 0:
        return [MINUS, *integer(-n)]
    if n >= LIMIT:
        raise ValueError(f"{n} is too large to read out (the limit is {LIMIT - 1})")
    if n == 0:
        return [DIGITS[0]]
    groups = []
    while n:
        n, group = divmod(n, 10000)
        groups.append(group)
    out: list[str] = []
    zero_pending = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero_pending = bool(out)
            continue
        if out and (zero_pending or group < 1000):
            out.append(DIGITS[0])
        out.extend(_group(group))
        out.extend(_GROUPS[index])
        zero_pending = False
    if out[:2] == [DIGITS[1], "十"]:
        del out[0]
    return out


def _group(group: int) -> list[str]:
    """1..9999 without leading zeros: 105 -> 一百零五, 1010 -> 一千零一十."""
    out: list[str] = []
    zero_pending = False
    for place, char in zip(_PLACES, f"{group:04d}", strict=True):
        digit = int(char)
        if digit == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out.append(DIGITS[0])
            zero_pending = False
        out.append(DIGITS[digit])
        if place:
            out.append(place)
    return out


def decimal(text: str) -> list[str]:
    """A number written with an optional sign and point: ``-12.50`` -> 负十二点五零."""
    match = _DECIMAL.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a decimal number")
    sign, whole, fraction = match.groups(default="")
    out = [MINUS] if sign else []
    out.extend(integer(int(whole)))
    if fraction:
        out.append(POINT)
        out.extend(DIGITS[int(d)] for d in fraction)
    return out


def digit_string(text: str) -> list[str]:
    """Digits one by one, 1 as 幺: ``"8001"`` -> 八零零幺."""
    if not is_digits(text):
        raise ValueError(f"{text!r} is not a string of digits")
    return [YAO if d == "1" else DIGITS[int(d)] for d in text]


def is_digits(text: str) -> bool:
    """ASCII digits only, at least one (``str.isdigit`` also takes ``²`` and ``１``)."""
    return text.isascii() and text.isdigit()
