"""The TwiML written as text is the twilio library's own ``to_xml()``, character for
character, for every verb the hotline uses and for the awkward values (escaping, empty
text, booleans, nesting, strings among the verbs)."""

from __future__ import annotations

import random

import pytest
from twilio.twiml import GenericNode
from twilio.twiml.voice_response import VoiceResponse

from ivr.phone.twilio import twiml, twiml_text

AWKWARD = ["a<b>&c", 'say "hi"', "it's", "line\nbreak\r\ttab", "", "中文：再见。", "]]>"]


def _replies() -> list[VoiceResponse]:
    replies = []
    full = VoiceResponse()
    gather = full.gather(
        input="dtmf", action="https://h/twilio/gather?step=3&x=1", method="POST", timeout=6,
        num_digits=8, finish_on_key="#", action_on_empty_result=False,
    )  # fmt: skip
    gather.say("For payments, press 2.", language="en-US", voice="Polly.Joanna")
    gather.play("https://h/twilio/audio/en/menu.wav")
    full.redirect("https://h/twilio/gather?step=3&timeout=1", method="POST")
    full.record(action="/r", method="POST", max_length=60, finish_on_key="#", timeout=3,
                play_beep=True)  # fmt: skip
    full.pause(length=1)
    dial = full.dial(action="/dialed?step=4", timeout=20)
    dial.number("+15550100")
    dial.client("agent-7")
    full.hangup()
    replies.append(full)
    replies.append(VoiceResponse())
    for text in AWKWARD:
        response = VoiceResponse()
        response.say(text, language="zh-CN", voice=text or None)
        response.redirect(f"/w?q={text}", method="POST")
        replies.append(response)
    return replies


@pytest.mark.parametrize("response", _replies(), ids=lambda r: str(len(r.verbs)))
def test_the_same_text_as_the_library(response: VoiceResponse) -> None:
    assert twiml.xml(response) == response.to_xml()


def test_strings_among_verbs_and_values_as_the_library_places_them() -> None:
    response = VoiceResponse()
    response.append("before")  # the response's own text...
    response.append("instead")  # ...the last one wins, as in the library's tree
    response.hangup()
    response.append("after <hangup>")
    response.nest(GenericNode("Parameter", {"k": "v & w"}, key="n"))
    response.nest(GenericNode("Empty", "", flag=True))
    assert twiml_text.document(response) == response.to_xml()


def test_random_trees() -> None:
    """Random nestings of verbs, attributes and text, held to the library's output."""
    chooser = random.Random(20261202)
    alphabet = "ab<>&\"'\n\r\t 中"

    def text() -> str:
        return "".join(chooser.choice(alphabet) for _ in range(chooser.randrange(5)))

    def node(depth: int) -> GenericNode:
        attrs = {f"k{i}": chooser.choice([text(), True, False, 7]) for i in range(3)}
        made = GenericNode(chooser.choice(["Say", "Play", "X"]), text() or None, **attrs)
        for _ in range(chooser.randrange(3) if depth < 3 else 0):
            made.nest(node(depth + 1) if chooser.random() < 0.7 else text())
        return made

    for _ in range(300):
        response = VoiceResponse()
        for _ in range(chooser.randrange(4)):
            response.nest(node(0))
        assert twiml_text.document(response) == response.to_xml()
