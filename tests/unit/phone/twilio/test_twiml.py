"""TwiML built from engine actions (pure)."""

from __future__ import annotations

import typing
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

from ivr.flow import actions as act
from ivr.phone.twilio import twiml
from ivr.phone.twilio.webhooks import query_string

TEMPLATES = {("callback_code", "en"): "Your code is {code}.", ("main_menu", "en"): "Press 1."}


def speech(files: set[str]) -> twiml.Speech:
    return twiml.Speech(
        lambda prompt_id, language: TEMPLATES.get((prompt_id, language)),
        lambda name: f"https://x/twilio/audio/{name}.wav" if name in files else None,
    )


def test_a_gather_carries_the_flows_timeout_digits_and_finish_key() -> None:
    ask = act.Gather("ask_account", (act.Prompt("main_menu", "en", "Press 1."),), 8, 8, 7.5, "#")
    reply = twiml.flow_reply(
        [ask], speech({"en/main_menu"}), action="/g?step=2", timed_out="/g?step=2&timeout=1",
        wait="/w",
    )  # fmt: skip
    root = ET.fromstring(twiml.xml(reply))
    gather, redirect = root
    assert gather.attrib == {
        "input": "dtmf", "action": "/g?step=2", "method": "POST", "timeout": "8",
        "numDigits": "8", "finishOnKey": "#", "actionOnEmptyResult": "false",
    }  # fmt: skip
    assert [(e.tag, e.text) for e in gather] == [
        ("Play", "https://x/twilio/audio/en/main_menu.wav")
    ]
    assert (redirect.tag, redirect.text) == ("Redirect", "/g?step=2&timeout=1")


def test_missing_audio_and_values_are_said_in_the_calls_language() -> None:
    prompts = (
        act.Prompt("main_menu", "zh", "请按1。"),
        act.Prompt("callback_code", "en", "Your code is 123456.", {"code": "123456"}),
    )
    root = ET.fromstring(twiml.xml(twiml.ending(prompts, speech(set()))))
    first, second, end = root
    assert (first.tag, first.attrib["language"], first.text) == ("Say", "zh-CN", "请按1。")
    assert (second.attrib["language"], second.text) == ("en-US", "Your code is 1 2 3 4 5 6.")
    assert end.tag == "Hangup"


def test_endings() -> None:
    transfer = twiml.flow_reply(
        [act.Transfer("+15550001")], speech(set()), action="", timed_out="", wait=""
    )
    assert [e.tag for e in ET.fromstring(twiml.xml(transfer))] == ["Dial", "Hangup"]
    queue = twiml.flow_reply(
        [act.Enqueue("general", 0, "general", "offer", "en")], speech(set()), action="",
        timed_out="", wait="/twilio/wait?step=3",
    )  # fmt: skip
    [redirect] = ET.fromstring(twiml.xml(queue))
    assert (redirect.tag, redirect.text) == ("Redirect", "/twilio/wait?step=3")


WELCOME = act.Play((act.Prompt("welcome", "en", "Welcome."), act.Prompt("hint", "en", "Hi.")))
MENU = (act.Prompt("main_menu", "en", "Press 1."),)


def reply_for(actions: list[act.Action]) -> ET.Element:
    reply = twiml.flow_reply(
        actions, speech({"en/welcome", "en/main_menu"}), action="/g?step=2",
        timed_out="/g?step=2&timeout=1", wait="/w",
    )  # fmt: skip
    return ET.fromstring(twiml.xml(reply))


def test_announcements_before_a_question_play_inside_its_gather() -> None:
    """Type-ahead: a key pressed during the welcome stops it and answers the menu."""
    menu = act.Gather("main_menu", MENU, 1, 1, 6)
    root = reply_for([WELCOME, act.SetData("language", "en"), menu])

    gather, redirect = root
    assert gather.tag == "Gather" and gather.attrib["numDigits"] == "1"
    assert [(e.tag, e.text) for e in gather] == [
        ("Play", "https://x/twilio/audio/en/welcome.wav"),
        ("Say", "Hi."),
        ("Play", "https://x/twilio/audio/en/main_menu.wav"),
    ]
    assert (redirect.tag, redirect.text) == ("Redirect", "/g?step=2&timeout=1")


def test_announcements_stay_outside_a_gather_without_type_ahead() -> None:
    ask = act.Gather("ask_code", MENU, 4, 4, 6, type_ahead=False)
    root = reply_for([WELCOME, ask])

    welcome, hint, gather, redirect = root
    assert [(e.tag, e.text) for e in (welcome, hint)] == [
        ("Play", "https://x/twilio/audio/en/welcome.wav"),
        ("Say", "Hi."),
    ]
    assert [e.tag for e in gather] == ["Play"] and redirect.tag == "Redirect"


def test_announcements_before_an_ending_are_not_gathered() -> None:
    root = reply_for([WELCOME, act.Hangup("solved")])
    assert [e.tag for e in root] == ["Play", "Say", "Hangup"]


def test_every_engine_action_has_one_renderer() -> None:
    assert set(twiml.RENDERERS) == set(typing.get_args(act.Action))


def test_a_webhook_query_string_is_urlencoded_whatever_its_values() -> None:
    for query in (
        {"step": 3},
        {"step": 12, "timeout": 1, "entry": 40},
        {"step": 2, "entry": "7 & 8"},
        {"callback": True, "step": -1},
        {},
    ):
        assert query_string(query) == urlencode(query)
