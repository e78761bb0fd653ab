"""Engine actions and hold steps as TwiML (pure: no I/O, no Flask).

A prompt with no values is ``<Play>`` of its rendered file when the file exists
(``audio_url`` says where it is served, or None), else ``<Say>`` of its text; a prompt
with values (amounts, codes, a merchant's name) is ``<Say>`` of the filled text, long
digit strings spaced so they are read digit by digit (Asterisk's core sounds for numbers
do not exist on Twilio). ``<Say>`` uses the call's language and a matching voice.

A ``Gather`` becomes ``<Gather input="dtmf">`` posting to ``action``; when it times out
without a key Twilio goes on to the next verb, a ``<Redirect>`` to ``timed_out``. With
type-ahead (``act.typed_ahead_into``) the step's announcements play inside the ``<Gather>``.

A ``Record`` becomes ``<Record>`` (``#`` or 3 s of silence end it) posting its
``RecordingSid`` and ``RecordingUrl`` to ``recorded``; Twilio skips the action when nothing
was recorded and goes on to the next verb, a ``<Redirect>`` to ``not_recorded``. The audio
stays with Twilio: the hotline keeps its URL and SID (fetching it would hold the webhook up).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from twilio.twiml import TwiML
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.flow import actions as act
from ivr.flow.prompts import fill
from ivr.phone.twilio import twiml_text

#: <Say> attributes per flow language.
VOICES = {
    "en": {"language": "en-US", "voice": "Polly.Joanna"},
    "zh": {"language": "zh-CN", "voice": "Polly.Zhiyu"},
}
#: Values at least this long made only of digits are said digit by digit.
SPELL_FROM = 4


@dataclass(frozen=True)
class Speech:
    """How prompts are spoken: ``template(id, language)`` the catalog text, and
    ``audio_url(name)`` the URL of ``<name>.wav`` under prompts/, None when missing."""

    template: Callable[[str, str], str | None]
    audio_url: Callable[[str], str | None]


def speak(parent: TwiML, prompts: Sequence[act.Prompt], speech: Speech) -> None:
    """Add the verbs that speak ``prompts`` to ``parent`` (a response or a Gather)."""
    for prompt in prompts:
        url = None if prompt.values else speech.audio_url(f"{prompt.language}/{prompt.id}")
        if url is not None:
            parent.play(url)
        else:
            parent.say(said_text(prompt, speech), **VOICES.get(prompt.language, VOICES["en"]))


def said_text(prompt: act.Prompt, speech: Speech) -> str:
    template = speech.template(prompt.id, prompt.language)
    if not prompt.values or template is None:
        return prompt.text
    return fill(template, {k: spelled(v) for k, v in prompt.values.items()})


def spelled(value: str) -> str:
    return " ".join(value) if value.isdigit() and len(value) >= SPELL_FROM else value


def gather(
    parent: VoiceResponse,
    ask: act.Gather,
    speech: Speech,
    action: str,
    timed_out: str,
    ahead: Sequence[act.Prompt] = (),
) -> None:
    """``<Gather>`` with the flow's timeout, digit count and finish key. ``ahead``: the
    announcements before its question, nested in it so that a key pressed during them
    counts (type-ahead); Twilio stops the nested verbs at the first key."""
    verb = parent.gather(
        input="dtmf",
        action=action,
        method="POST",
        timeout=max(1, math.ceil(ask.timeout)),
        num_digits=ask.max_digits,
        finish_on_key=ask.finish_key or "",
        action_on_empty_result=False,
    )
    speak(verb, (*ahead, *ask.prompts), speech)
    parent.redirect(timed_out, method="POST")


@dataclass
class _Reply:
    """One engine step's reply as it is built: the response, where its gathers post,
    and the announcements held back for a type-ahead ``<Gather>``."""

    response: VoiceResponse
    speech: Speech
    action: str
    timed_out: str
    wait: str
    ahead: bool
    announced: list[act.Prompt] = field(default_factory=list)
    recorded: str = ""
    not_recorded: str = ""


def _play(item: act.Play, reply: _Reply) -> None:
    if reply.ahead:
        reply.announced.extend(item.prompts)
    else:
        speak(reply.response, item.prompts, reply.speech)


def _gather(item: act.Gather, reply: _Reply) -> None:
    gather(reply.response, item, reply.speech, reply.action, reply.timed_out, reply.announced)


def _record(item: act.Record, reply: _Reply) -> None:
    speak(reply.response, item.prompts, reply.speech)
    reply.response.record(
        action=reply.recorded,
        method="POST",
        max_length=item.max_seconds,
        finish_on_key="#",
        timeout=3,
        play_beep=True,
    )
    reply.response.redirect(reply.not_recorded, method="POST")


def _enqueue(item: act.Enqueue, reply: _Reply) -> None:
    reply.response.redirect(reply.wait, method="POST")


def _transfer(item: act.Transfer, reply: _Reply) -> None:
    reply.response.dial(item.to)
    reply.response.hangup()


def _hangup(item: act.Hangup, reply: _Reply) -> None:
    reply.response.hangup()


def _nothing(item: act.Action, reply: _Reply) -> None:
    """Engine actions the line does not voice (``SetData``, ``RunAction``)."""


#: Every engine action -> how a Twilio reply renders it (the driver's one table).
RENDERERS: dict[type, Callable[[Any, _Reply], None]] = {
    act.Play: _play,
    act.Gather: _gather,
    act.SetData: _nothing,
    act.RunAction: _nothing,
    act.Enqueue: _enqueue,
    act.Transfer: _transfer,
    act.Hangup: _hangup,
    act.Record: _record,
}


def flow_reply(
    actions: Sequence[act.Action],
    speech: Speech,
    *,
    action: str,
    timed_out: str,
    wait: str,
    recorded: str = "",
    not_recorded: str = "",
) -> VoiceResponse:
    """What the caller hears for one engine step (the use cases already run). Plays
    before a gather that takes type-ahead are nested in its ``<Gather>``."""
    ahead = act.typed_ahead_into(actions) is not None
    reply = _Reply(VoiceResponse(), speech, action, timed_out, wait, ahead)
    reply.recorded, reply.not_recorded = recorded, not_recorded
    for item in actions:
        RENDERERS[type(item)](item, reply)
    return reply.response


def hold_segment(parent: VoiceResponse | Gather, url: str | None, seconds: int = 3) -> None:
    """A stretch of hold: ``<Play>`` of the hold music segment at ``url`` (the same
    chimes Asterisk callers hear), or ``seconds`` of silence without one."""
    if url is not None:
        parent.play(url)
    else:
        parent.pause(length=seconds)


def ending(prompts: Sequence[act.Prompt], speech: Speech) -> VoiceResponse:
    """Say ``prompts`` and hang up."""
    response = VoiceResponse()
    speak(response, prompts, speech)
    response.hangup()
    return response


#: What ``apology`` says, by language.
APOLOGY = {
    "en": "Sorry, we could not continue this call. Please call again. Goodbye.",
    "zh": "抱歉，本次通话无法继续，请您重新拨打。再见。",
}


def apology(language: str = "en") -> VoiceResponse:
    """For a call we know nothing about (or cannot go on with): polite, then hang up."""
    response = VoiceResponse()
    text = APOLOGY.get(language, APOLOGY["en"])
    response.say(text, **VOICES.get(language, VOICES["en"]))
    response.hangup()
    return response


def xml(response: VoiceResponse) -> str:
    """The TwiML document (as ``response.to_xml()`` writes it, without its ElementTree)."""
    return twiml_text.document(response)
