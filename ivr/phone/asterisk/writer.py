"""Writes the hotline's Asterisk files for a flow: ``ivr asterisk-config --out DIR``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from ivr.audio.tone import hold_music, hold_segments
from ivr.flow.model import Flow
from ivr.phone.asterisk import config, dialplan, pjsip_queues

HOLD_MUSIC = "hold.wav"
CALLBACKS = "hotline-callbacks"
#: The demo agents' phones (ivr seed --demo): the sandbox's.
AGENT_ENDPOINTS = ("agent-alice", "agent-bob", "agent-chen", "agent-sam")


def options_for(
    flow: Flow,
    agi: str,
    per_call_script: bool,
    sip_port: int,
    agents: Mapping[str, str],
    moh_directory: Path,
    contacts: Mapping[str, str] | None = None,
    phones: Sequence[config.Agent] = (),
) -> config.Options:
    """The generator's options: the flow gives the languages and the queues; ``agents``
    the phones' passwords (endpoint name -> password); ``phones`` their skills and
    languages (an endpoint not among them takes every queue, as the sandbox's phones do);
    ``contacts`` fixes where phones are reached (endpoint name -> SIP URI;
    ``hotline-callbacks`` for callbacks)."""
    contacts = contacts or {}
    staff = {phone.name: phone for phone in phones}
    options = config.Options(
        agi=agi,
        per_call_script=per_call_script,
        sip_port=sip_port,
        languages=flow.languages,
        queues=[config.HotlineQueue(q.name, q.priority, q.skill) for q in flow.queues.values()],
        agents=[
            replace(
                staff.get(name, config.Agent(name, "")),
                password=password,
                contact=contacts.get(name),
            )
            for name, password in agents.items()
        ],
        moh_directory=str(moh_directory.resolve()),
    )
    callbacks = contacts.get(CALLBACKS)
    return replace(options, callback_contact=callbacks) if callbacks else options


def hotline_files(options: config.Options) -> dict[str, str]:
    """File name -> contents, everything ``ivr asterisk-config`` writes."""
    return {
        "extensions.conf": dialplan.extensions_conf(options),
        "pjsip.conf": pjsip_queues.pjsip_conf(options),
        "pjsip-transport.conf": pjsip_queues.pjsip_transport_conf(options),
        "queues.conf": pjsip_queues.queues_conf(options),
        "musiconhold.conf": pjsip_queues.musiconhold_conf(options),
    }


def write_files(out: Path, files: Mapping[str, str]) -> list[Path]:
    """Each file replaced atomically (Asterisk may reload while they are written)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = out / name
        temporary = out / f".{name}.tmp"
        temporary.write_text(text)
        temporary.replace(path)
        written.append(path)
    return written


def write_hold_music(folder: Path) -> Path:
    """``hold.wav`` (app_queue's music on hold) and the controller's ``hold-<n>.wav``
    segments, played as ``moh/hold-<n>`` (link the folder as ``sounds/moh``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, music in {HOLD_MUSIC: hold_music(), **hold_segments()}.items():
        path = folder / name
        if not path.is_file() or path.read_bytes() != music:
            path.write_bytes(music)
    return folder / HOLD_MUSIC
