"""Twilio's webhooks (``/twilio/...``): the voice URL, gathers, the wait loop, the agent's
Dial, the status callback, and the prompt audio ``<Play>`` fetches. See docs/twilio.md."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, abort, request, send_from_directory
from twilio.twiml.voice_response import VoiceResponse

from ivr.audio.build import prompts_root
from ivr.audio.tone import hold_segments
from ivr.center import hold
from ivr.phone.twilio import signature as twilio_signature
from ivr.phone.twilio import twiml
from ivr.phone.twilio.voice import TwilioVoice, Urls
from ivr.services import call_ids
from ivr.web import context as web_context
from ivr.web.errors import bad_input

bp = Blueprint("twilio", __name__, url_prefix="/twilio")
XML = "application/xml"


def hotline() -> Any:
    """The hotline the web app serves (until the blueprint is made with its parts)."""
    return web_context.hotline()


@bp.before_request
def signed_only() -> None:
    if request.endpoint != "twilio.audio":  # prompt audio is public, and changes nothing
        twilio_signature.check(hotline().settings)
        _sid()  # 400 before any state is read or written by a missing or unusable CallSid


def _base() -> str:
    return hotline().settings.public_url or request.host_url.rstrip("/")


def _url(kind: str, **query: Any) -> str:
    return f"{_base()}/twilio/{kind}?{urlencode(query)}"


def _audio_url(name: str) -> str | None:
    if name in hold.SEGMENTS or (_prompts() / f"{name}.wav").is_file():
        return f"{_base()}/twilio/audio/{quote(name)}.wav"
    return None


def _prompts() -> Path:
    return prompts_root(hotline().flow)


def _voice() -> TwilioVoice:
    line = hotline()
    speech = twiml.Speech(line.flow.catalog.text, _audio_url)
    return TwilioVoice(line, speech, Urls(_url))


def _xml(body: str) -> Response:
    return Response(body, mimetype=XML)


def _step() -> int:
    raw = request.args.get("step", "")
    return int(raw) if raw.isdigit() else -1


def _sid() -> str:
    """The webhook's ``CallSid``; 400 if it is missing or too long to store."""
    try:
        return call_ids.checked(request.form.get("CallSid", ""), "CallSid")
    except call_ids.BadCallId as exc:
        raise bad_input(f"{request.path}: {exc}", "CallSid") from None


@bp.post("/voice")
def voice() -> Response:
    form = request.form
    callback = request.args.get("callback", "")
    if callback.isdigit():  # we called the customer back (To) and they answered
        return _xml(_voice().callback_call(_sid(), int(callback), form.get("To", "")))
    return _xml(_voice().voice(_sid(), form.get("From", ""), form.get("To", "")))


@bp.post("/gather")
def gather() -> Response:
    digits = None if request.args.get("timeout") else request.form.get("Digits")
    return _xml(_voice().gather(_sid(), _step(), digits))


@bp.post("/wait")
def wait() -> Response:
    digits = None if request.args.get("timeout") else request.form.get("Digits")
    return _xml(_voice().wait(_sid(), _step(), digits))


@bp.post("/dialed")
def dialed() -> Response:
    status = request.form.get("DialCallStatus", "")
    return _xml(_voice().dialed(_sid(), _step(), status))


@bp.post("/answered")
def answered() -> Response:
    entry = request.args.get("entry", "")
    if entry.isdigit():
        _voice().answered(int(entry))
    return _xml(twiml.xml(VoiceResponse()))


@bp.post("/status")
def status() -> Response:
    call_status = request.form.get("CallStatus", "")
    callback = request.args.get("callback", "")
    if callback.isdigit():  # a callback call (ivr.phone.twilio.rest)
        _voice().callback_status(_sid(), int(callback), call_status)
    else:
        _voice().status(_sid(), call_status)
    return Response(status=204)


@bp.get("/audio/<path:name>")
def audio(name: str) -> Response:
    if not name.endswith(".wav"):
        abort(404)
    if name.removesuffix(".wav") in hold.SEGMENTS:  # moh/hold-N: generated, not rendered
        music = _hold_music().get(name.removeprefix("moh/"))
        if music is None:
            abort(404)
        return Response(music, mimetype="audio/wav", headers={"Cache-Control": "max-age=86400"})
    return send_from_directory(_prompts().resolve(), name, mimetype="audio/wav")


@functools.cache
def _hold_music() -> dict[str, bytes]:
    return hold_segments()
