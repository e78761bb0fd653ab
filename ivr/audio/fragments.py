"""The short recordings values are assembled from: ``prompts/<lang>/_fragments/<name>.wav``.

English needs few (Asterisk's SAY NUMBER and SAY DIGITS read the numbers): the decimal
point, a minus sign, the currency words and the month names. Mandarin is assembled from
fragments entirely: digits, the place words 十 百 千 万 亿, 点, 负, currencies, 月 and 日.
File names are ASCII (``digit_1``, ``ten_thousand``) so they pass through AGI and any file
system unchanged. The currency words and month names match ``ivr.services.wording``.
"""

from __future__ import annotations

from collections.abc import Mapping

FOLDER = "_fragments"

_MONTHS = (
    "January February March April May June July August September October November December"
).split()

#: English fragment name -> the text rendered.
ENGLISH: Mapping[str, str] = {
    "point": "point",
    "minus": "minus",
    "currency_cny": "yuan",
    "currency_usd": "dollars",
    "currency_eur": "euros",
    "currency_hkd": "Hong Kong dollars",
    **{f"month_{number:02d}": name for number, name in enumerate(_MONTHS, start=1)},
}

#: Mandarin fragment name -> the character(s) rendered.
MANDARIN: Mapping[str, str] = {
    **{f"digit_{digit}": char for digit, char in enumerate("零一二三四五六七八九")},
    "yao": "幺",
    "ten": "十",
    "hundred": "百",
    "thousand": "千",
    "ten_thousand": "万",
    "hundred_million": "亿",
    "point": "点",
    "minus": "负",
    "currency_cny": "元",
    "currency_usd": "美元",
    "currency_eur": "欧元",
    "currency_hkd": "港币",
    "month": "月",
    "day": "日",
}

BY_LANGUAGE: Mapping[str, Mapping[str, str]] = {"en": ENGLISH, "zh": MANDARIN}

#: A Mandarin character (or currency word) -> its fragment name.
MANDARIN_NAMES: Mapping[str, str] = {text: name for name, text in MANDARIN.items()}

#: An English month name -> its fragment name.
MONTH_NAMES: Mapping[str, str] = {
    text: name for name, text in ENGLISH.items() if name.startswith("month_")
}

CURRENCY_WORDS: Mapping[str, Mapping[str, str]] = {
    language: {text: name for name, text in table.items() if name.startswith("currency_")}
    for language, table in BY_LANGUAGE.items()
}


def path(language: str, name: str) -> str:
    """A fragment as a playable name: ``zh/_fragments/digit_1``."""
    return f"{language}/{FOLDER}/{name}"
