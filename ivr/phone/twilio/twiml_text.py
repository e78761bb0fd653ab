"""A TwiML document (the twilio library's ``VoiceResponse`` and its verbs) written as text.

The library writes a document by building an ElementTree of it and serialising that; for
a reply of a few verbs this was a fifth of a signed gather's CPU. ``document`` walks the
same verbs (``name``, ``attrs``, ``value``, nested ``verbs``) and writes the same XML the
library does: attributes sorted by name, booleans as ``true``/``false``, a dict value as
JSON, text and attribute values escaped as ElementTree escapes them, an empty element as
``<Name />``. ``tests/unit/phone/twilio/test_twiml_text.py`` holds it to the library's
own output.
"""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape

from twilio.twiml import TwiML

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
#: What ElementTree escapes in an attribute's value besides ``&``, ``<`` and ``>``.
_IN_ATTRIBUTES = {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"}


def document(response: TwiML) -> str:
    """``response.to_xml()``: the XML declaration, then the response."""
    parts = [DECLARATION]
    _write(response, parts)
    return "".join(parts)


def _write(verb: TwiML, parts: list[str]) -> None:
    attrs = verb.attrs
    opening = "<" + verb.name
    for name in sorted(attrs):
        given = attrs[name]
        text = ("true" if given else "false") if isinstance(given, bool) else str(given)
        opening += f' {name}="{_attribute(text)}"'
    value: Any = verb.value
    if isinstance(value, dict):
        value = json.dumps(value)
    # as the library builds its tree: a string among the verbs is the text after the
    # verb before it (the element's own text when first), the last such string winning
    head: str = value or ""
    children: list[list[str]] = []  # each child's XML, then the text after it
    for child in verb.verbs:
        if isinstance(child, str):
            if children:
                children[-1][1] = child
            else:
                head = child
        else:
            written: list[str] = []
            _write(child, written)
            children.append(["".join(written), ""])
    if not head and not children:
        parts.append(opening + " />")
        return
    parts.append(opening + ">" + _text(head))
    for written_child, tail in children:
        parts.append(written_child + _text(tail))
    parts.append(f"</{verb.name}>")


def _text(text: str) -> str:
    return escape(text)  # &, < and >, as ElementTree escapes text


def _attribute(text: str) -> str:
    return escape(text, _IN_ATTRIBUTES)  # and these, as ElementTree escapes attributes
