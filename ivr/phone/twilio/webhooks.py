"""Twilio's webhooks (``/twilio/...``): the voice URL, gathers, the wait loop, the agent's
Dial, a recording's end, the status callback, and the prompt audio ``<Play>`` fetches. See
docs/twilio.md.

``make_blueprint(parts, settings, calls)`` builds them for one process; the app they are
mounted on exempts them from signing in (each is signed by Twilio instead, checked here).
A refused request is an ``HTTPException`` (403 unsigned, 400 a bad ``CallSid``): the app
shows it."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, abort, g, request, send_from_directory
from twilio.twiml.voice_response import VoiceResponse

from ivr.audio.build import prompts_root
from ivr.audio.tone import hold_segments
from ivr.center import hold_policy
from ivr.flow.events import Recorded
from ivr.phone.channel import Parts
from ivr.phone.twilio import signature as twilio_signature
from ivr.phone.twilio import twiml
from ivr.phone.twilio.call_state import CallStates
from ivr.phone.twilio.prompt_files import PromptFiles
from ivr.phone.twilio.settings import TwilioSettings
from ivr.phone.twilio.voice import TwilioVoice, Urls
from ivr.services import call_ids
from ivr.services.call_context import CALL_ID

NAME = "twilio"
XML = "application/xml"
_RECORDING_SID = re.compile(r"RE[0-9a-f]{32}")


def make_blueprint(parts: Parts, settings: TwilioSettings, calls: CallStates) -> Blueprint:
    """The ``twilio`` blueprint (``/twilio/...``) serving ``parts``' calls, their state
    kept in ``calls``."""
    bp = Blueprint(NAME, __name__, url_prefix="/twilio")
    validator = twilio_signature.validator_for(settings)

    def base() -> str:
        return settings.public_url or twilio_signature.host_url()

    def url(kind: str, **query: Any) -> str:
        return f"{base()}/twilio/{kind}?{query_string(query)}"

    def prompts() -> Path:
        return prompts_root(parts.flow)

    folder: list[Any] = [None, ""]  # the flow, and its prompts folder as text

    def prompts_folder() -> str:
        flow = parts.flow
        if folder[0] is not flow:  # the first request, or the flow was reloaded
            folder[:] = [flow, str(prompts())]
        return str(folder[1])

    rendered = PromptFiles(prompts_folder)

    def audio_url(name: str) -> str | None:
        if name in hold_policy.SEGMENTS or rendered.has(name):
            return f"{base()}/twilio/audio/{quote(name)}.wav"
        return None

    def voice_of() -> TwilioVoice:
        speech = twiml.Speech(parts.flow.catalog.text, audio_url)
        return TwilioVoice(parts, speech, Urls(url), calls)

    @bp.before_request
    def signed_only() -> None:
        if request.endpoint != f"{NAME}.audio":  # prompt audio is public, changes nothing
            twilio_signature.check(settings, validator)
            # 400 before any state is read or written by an unusable CallSid; lines logged
            # while the webhook is served name the call (ivr.services.call_context)
            g.ivr_call_context = CALL_ID.set(call_sid())

    @bp.teardown_request
    def call_handled(_error: BaseException | None) -> None:
        token = g.pop("ivr_call_context", None)
        if token is not None:
            CALL_ID.reset(token)

    @bp.post("/voice")
    def voice() -> Response:
        form = request.form
        callback = request.args.get("callback", "")
        if callback.isdigit():  # we called the customer back (To) and they answered
            return xml(voice_of().callback_call(call_sid(), int(callback), form.get("To", "")))
        return xml(voice_of().voice(call_sid(), form.get("From", ""), form.get("To", "")))

    @bp.post("/gather")
    def gather() -> Response:
        return xml(voice_of().gather(call_sid(), step(), digits()))

    @bp.post("/wait")
    def wait() -> Response:
        return xml(voice_of().wait(call_sid(), step(), digits()))

    @bp.post("/dialed")
    def dialed() -> Response:
        status = request.form.get("DialCallStatus", "")
        return xml(voice_of().dialed(call_sid(), step(), status))

    @bp.post("/recorded")
    def recorded() -> Response:
        return xml(voice_of().recorded(call_sid(), step(), recording()))

    @bp.post("/answered")
    def answered() -> Response:
        entry = request.args.get("entry", "")
        if entry.isdigit():
            voice_of().answered(int(entry))
        return xml(twiml.xml(VoiceResponse()))

    @bp.post("/status")
    def status() -> Response:
        call_status = request.form.get("CallStatus", "")
        callback = request.args.get("callback", "")
        if callback.isdigit():  # a callback call (ivr.phone.twilio.rest)
            voice_of().callback_status(call_sid(), int(callback), call_status)
        else:
            voice_of().status(call_sid(), call_status)
        return Response(status=204)

    @bp.get("/audio/<path:name>")
    def audio(name: str) -> Response:
        if not name.endswith(".wav"):
            abort(404)
        if name.removesuffix(".wav") in hold_policy.SEGMENTS:  # moh/hold-N: generated, not rendered
            music = hold_music().get(name.removeprefix("moh/"))
            if music is None:
                abort(404)
            headers = {"Cache-Control": "max-age=86400"}
            return Response(music, mimetype="audio/wav", headers=headers)
        return send_from_directory(prompts().resolve(), name, mimetype="audio/wav")

    return bp


# -- reading a webhook ----------------------------------------------------------------------


def xml(body: str) -> Response:
    return Response(body, mimetype=XML)


def query_string(query: dict[str, Any]) -> str:
    """``urlencode(query)``; whole numbers (every reply's ``step``, ``timeout``...) need no
    quoting, and each reply builds several such URLs."""
    if all(type(value) is int for value in query.values()):
        return "&".join(f"{name}={value}" for name, value in query.items())
    return urlencode(query)


def step() -> int:
    """The webhook's ``step`` (-1 when missing or not a number: never claimable)."""
    raw = request.args.get("step", "")
    return int(raw) if raw.isdigit() else -1


def digits() -> str | None:
    """The keys pressed; None when the Gather timed out (``timeout`` in the query)."""
    return None if request.args.get("timeout") else request.form.get("Digits")


def recording() -> Recorded:
    """What ``<Record>`` posted: its ``RecordingSid`` and ``RecordingUrl`` (only a
    well-formed SID and an https URL at Twilio count), else nothing recorded."""
    sid = request.form.get("RecordingSid", "")
    where = request.form.get("RecordingUrl", "")
    if request.args.get("timeout") or not _RECORDING_SID.fullmatch(sid):
        return Recorded(None)
    if not where.startswith("https://") or len(where) > 500:
        return Recorded(None)
    return Recorded(sid, where)


def call_sid() -> str:
    """The webhook's ``CallSid``; 400 if it is missing or too long to store."""
    try:
        return call_ids.checked(request.form.get("CallSid", ""), "CallSid")
    except call_ids.BadCallId as exc:
        abort(400, f"{request.path}: {exc}")


@functools.cache
def hold_music() -> dict[str, bytes]:
    return hold_segments()
