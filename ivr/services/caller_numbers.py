"""Caller ids as the network sends them, and the E.164 number in them (pure: no I/O).

A caller id is whatever the phone system put in ``agi_callerid`` or Twilio's ``From``:
``+8613800138001``, ``sip:+8613800138001@pstn.example-carrier.com``, ``"Li Wei"
<sip:+86...@x>``, ``tel:+1-415-555-0102``, ``anonymous``, an extension ``1001`` or a SIP
user name. The hotline keeps that raw value in full (the call record, the queue, the
attempt logs) and *matches* on the E.164 number ``e164`` extracts from it: the per-caller
lockouts, the callback number, the notes shown on the screen pop.

What counts as a number (decided here, once):

- a ``+`` followed by 7 to 15 digits, the first not 0 (``^\\+[1-9]\\d{6,14}$``), after
  removing visual separators (spaces, ``-``, ``.``, ``(``, ``)``, RFC 3966);
- inside a ``sip:``/``sips:`` URI, the user part (``%2B`` decoded, ``;params`` cut);
  inside a ``tel:`` URI, the number (a local ``tel:`` number whose ``phone-context`` is a
  ``+digits`` prefix is completed with it); in a ``"Name" <uri>`` the part in brackets;
- a leading ``00`` is the international call prefix (ITU-T E.164 recommends it, China and
  most of Europe dial it): ``008613800138001`` is ``+8613800138001``;
- anything else gives ``None``: no digits (``anonymous``, ``unknown``, ``restricted``,
  empty), or digits in a national format (``13800138001``, ``011 ...``, ``4155550102``),
  whose country the hotline cannot know: guessing would match or dial a stranger.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

#: What ``e164`` returns when it returns a number.
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
#: Longer raw values are not looked into (they are still stored as sent).
MAX_PARSED = 512
_SEPARATORS = re.compile(r"[\s\-.()]")
_SCHEME = re.compile(r"(sips?|tel):", re.IGNORECASE)
_PLAIN = re.compile(r"\+?[0-9]{3,15}")  # what the callback dialogue accepts as typed


def e164(raw: str | None) -> str | None:
    """The E.164 number in a caller id (``+`` and digits), or ``None`` if there is none."""
    if not raw or len(raw) > MAX_PARSED:
        return None
    address = _address(raw.strip())
    scheme = _SCHEME.match(address)
    if scheme is None:
        number = address
    elif scheme.group(1).lower() == "tel":
        number = _tel_number(address[scheme.end() :])
    else:
        number = unquote(address[scheme.end() :].split("@", 1)[0].split(";", 1)[0])
    number = _SEPARATORS.sub("", number)
    if number.startswith("00"):
        number = "+" + number[2:]
    return number if E164.fullmatch(number) else None


def _address(value: str) -> str:
    """The URI of a ``"Name" <uri>`` (name-addr); the value itself otherwise."""
    opening = value.rfind("<")
    if opening >= 0:
        closing = value.find(">", opening)
        return value[opening + 1 : closing if closing >= 0 else len(value)].strip()
    return value.strip().strip('"').strip()


def _tel_number(rest: str) -> str:
    number, *params = rest.split(";")
    if number.startswith("+"):
        return number
    for param in params:
        name, _, context = param.partition("=")
        if name.strip().lower() == "phone-context" and context.startswith("+"):
            return context + number
    return ""  # a local number without a usable context: no country


def callback_number(raw: str | None) -> str | None:
    """The number to offer for calling this caller back: the E.164 number in the caller
    id; else the caller id itself if it is plain digits (an extension or a national
    number, which the PBX dials as it presented it); else ``None`` (ask for one)."""
    found = e164(raw)
    if found is not None:
        return found
    plain = (raw or "").strip()
    return plain if _PLAIN.fullmatch(plain) else None
