"""The terminal phone: talk to the hotline without a phone.

Keys are typed (interactive) or given up front (``--keys "1 2 10000001# t h"``): each
token answers one menu or gather; ``t`` is a timeout (silence), ``h`` a hang-up.

When the hotline records the caller (a ``record`` node), the next token is what the caller
"says": ``say:words_like_this`` (or keys); it is written to a small text file in the
recordings folder, as a recording would be, and ``t`` (silence) records nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.errors import IvrError
from ivr.flow import actions as act
from ivr.flow.events import Digits, Event, HungUp, Recorded, Timeout
from ivr.flow.state import ABANDONED
from ivr.phone.session import CallSession

logger = logging.getLogger(__name__)

KEYS = set("0123456789*#")
HELP = (
    "use the keys 0-9, * and #; t for silence (timeout), h to hang up; "
    "say:some_words when the hotline records you"
)
#: What a ``say:`` token may hold (underscores are spaces), and how much of it is kept.
_SPOKEN = re.compile(r"say:([\w'.,!?-]{1,500})", re.UNICODE)


@dataclass(frozen=True)
class Speech:
    """What the caller "says" while the hotline records them (a ``say:`` token)."""

    text: str


class BadKeys(IvrError):
    """Keys that are not keypad keys."""


def parse_token(token: str) -> Event | Speech:
    spoken = _SPOKEN.fullmatch(token.strip())
    if spoken:
        return Speech(spoken.group(1).replace("_", " "))
    low = token.strip().lower()
    if low in ("t", "timeout"):
        return Timeout()
    if low in ("h", "hangup"):
        return HungUp()
    if low and set(low) <= KEYS:
        return Digits(low)
    raise BadKeys(f"'{token}' is not keys: {HELP}")


def parse_keys(text: str) -> list[Event | Speech]:
    """Parse a whole ``--keys`` script, naming the position of any bad token."""
    events = []
    for number, token in enumerate(text.split(), start=1):
        try:
            events.append(parse_token(token))
        except BadKeys as exc:
            raise BadKeys(f"--keys, token {number}: {exc}") from None
    return events


Writer = Callable[[str], None]


def show(actions: list[act.Action], write: Writer) -> None:
    for action in actions:
        shown = SHOWN.get(type(action))
        if shown is not None:
            shown(action, write)


def _say(prompts: tuple[act.Prompt, ...], write: Writer) -> None:
    for prompt in prompts:
        write(f"IVR  {prompt.text}")


def _play(play: act.Play, write: Writer) -> None:
    _say(play.prompts, write)


def _gather(gather: act.Gather, write: Writer) -> None:
    _say(gather.prompts, write)
    secure = ", hidden" if gather.secure else ""
    finish = f", end with {gather.finish_key}" if gather.finish_key else ""
    write(f"     [{gather.node}: {_digits(gather)}{finish}{secure}]")


def _enqueue(enqueue: act.Enqueue, write: Writer) -> None:
    write(
        f"END  queued to {enqueue.queue} (priority {enqueue.priority}, skill "
        f"{enqueue.skill}, callback {enqueue.callback}, {enqueue.language})"
    )


def _transfer(transfer: act.Transfer, write: Writer) -> None:
    write(f"END  transferred to {transfer.to}")


def _hangup(hangup: act.Hangup, write: Writer) -> None:
    write(f"END  hung up ({hangup.outcome})")


def _record(record: act.Record, write: Writer) -> None:
    _say(record.prompts, write)
    write(f"     [{record.node}: recording, at most {record.max_seconds}s; say:your_words]")


def _not_shown(_action: object, _write: Writer) -> None:
    """Call data the caller does not hear (``SetData``)."""


#: What the terminal shows of each line action.
SHOWN: dict[type[act.Action], Callable[[Any, Writer], None]] = {
    act.Play: _play,
    act.Gather: _gather,
    act.SetData: _not_shown,
    act.Enqueue: _enqueue,
    act.Transfer: _transfer,
    act.Hangup: _hangup,
    act.Record: _record,
}


def _digits(gather: act.Gather) -> str:
    if gather.min_digits == gather.max_digits:
        return f"{gather.max_digits} key{'s' if gather.max_digits > 1 else ''}"
    return f"{gather.min_digits}-{gather.max_digits} keys"


def record(session: CallSession, heard: Event | Speech, folder: Path | None) -> Event:
    """The caller's answer to a ``Record``: what they said kept as ``<name>.txt`` in the
    recordings folder (``Recorded`` with its id), or ``Recorded(None)`` after silence or
    when the folder cannot be written (logged); a hang-up stays one."""
    recording = session.recording
    if recording is None or isinstance(heard, HungUp):
        return heard if not isinstance(heard, Speech) else Timeout()
    text = heard.text if isinstance(heard, Speech) else getattr(heard, "digits", "")
    if not text or folder is None:
        return Recorded(None)
    name = f"{recording.name}.txt"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        logger.warning(
            "call %s: cannot keep a recording in %s (%s)",
            session.call.call_id,
            folder,
            exc.strerror,
        )
        return Recorded(None)
    return Recorded(recording.name, name)


def run_scripted(
    session: CallSession,
    events: list[Event | Speech],
    write: Writer | None,
    recordings: Path | None = None,
) -> bool:
    """Play a call with keys given up front. Returns False if the keys ran out while the
    hotline still waited (the caller is then taken to have hung up). ``recordings``: the
    folder what the caller says is kept in (None: nothing is recorded)."""
    say = write or (lambda _: None)
    show(session.start(), say)
    queue: Iterator[Event | Speech] = iter(events)
    ran_out = False
    while not session.ended:
        heard = next(queue, None)
        if heard is None:
            ran_out = True
            say("     (the keys ran out)")
            heard = HungUp()
        event = record(session, heard, recordings)
        _echo(session, heard, say)
        show(session.answer(event), say)
    _closing(session, say)
    return not ran_out


Reader = Callable[[str, bool], str]


def run_interactive(
    session: CallSession, read: Reader, write: Writer, recordings: Path | None = None
) -> None:
    """Talk to the hotline: one line of keys per question. ``read(prompt, secure)`` must
    not echo what is typed when ``secure`` is true."""
    write(f"Calling the hotline as {session.call.ani or 'an unknown number'}. ({HELP})")
    show(session.start(), write)
    while not session.ended:
        secure = session.waiting is not None and session.waiting.secure
        try:
            line = read("you> ", secure)
        except EOFError:
            line = "h"
        if session.recording is not None and line.strip() and not line.startswith("say:"):
            line = "say:" + "_".join(line.split()) if line.strip() not in ("h", "t") else line
        try:
            heard = parse_token(line.replace(" ", "")) if line.strip() else Timeout()
        except BadKeys as exc:
            write(f"     {exc}")
            continue
        show(session.answer(record(session, heard, recordings)), write)
    _closing(session, write)


def _closing(session: CallSession, write: Writer) -> None:
    state = session.state
    if state is not None and state.outcome == ABANDONED:
        write(f"END  the caller hung up (at {state.node})")


def _echo(session: CallSession, event: Event | Speech, write: Writer) -> None:
    secure = session.waiting is not None and session.waiting.secure
    if isinstance(event, Speech):
        write(f"YOU  (says) {event.text}")
    elif isinstance(event, Digits):
        write(f"YOU  {'****' if secure else event.digits}")
    elif isinstance(event, Timeout):
        write("YOU  (silence)")
    else:
        write("YOU  (hangs up)")
