"""The terminal phone: talk to the hotline without a phone.

Keys are typed (interactive) or given up front (``--keys "1 2 10000001# t h"``): each
token answers one menu or gather; ``t`` is a timeout (silence), ``h`` a hang-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ivr.errors import IvrError
from ivr.flow import actions as act
from ivr.flow.events import Digits, Event, HungUp, Timeout
from ivr.flow.state import ABANDONED
from ivr.phone.session import CallSession

KEYS = set("0123456789*#")
HELP = "use the keys 0-9, * and #; t for silence (timeout), h to hang up"


class BadKeys(IvrError):
    """Keys that are not keypad keys."""


def parse_token(token: str) -> Event:
    low = token.strip().lower()
    if low in ("t", "timeout"):
        return Timeout()
    if low in ("h", "hangup"):
        return HungUp()
    if low and set(low) <= KEYS:
        return Digits(low)
    raise BadKeys(f"'{token}' is not keys: {HELP}")


def parse_keys(text: str) -> list[Event]:
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
}


def _digits(gather: act.Gather) -> str:
    if gather.min_digits == gather.max_digits:
        return f"{gather.max_digits} key{'s' if gather.max_digits > 1 else ''}"
    return f"{gather.min_digits}-{gather.max_digits} keys"


def run_scripted(session: CallSession, events: list[Event], write: Writer | None) -> bool:
    """Play a call with keys given up front. Returns False if the keys ran out while the
    hotline still waited (the caller is then taken to have hung up)."""
    say = write or (lambda _: None)
    show(session.start(), say)
    queue: Iterator[Event] = iter(events)
    ran_out = False
    while not session.ended:
        event = next(queue, None)
        if event is None:
            ran_out = True
            say("     (the keys ran out)")
            event = HungUp()
        _echo(session, event, say)
        show(session.answer(event), say)
    _closing(session, say)
    return not ran_out


Reader = Callable[[str, bool], str]


def run_interactive(session: CallSession, read: Reader, write: Writer) -> None:
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
        try:
            event = parse_token(line.replace(" ", "")) if line.strip() else Timeout()
        except BadKeys as exc:
            write(f"     {exc}")
            continue
        show(session.answer(event), write)
    _closing(session, write)


def _closing(session: CallSession, write: Writer) -> None:
    state = session.state
    if state is not None and state.outcome == ABANDONED:
        write(f"END  the caller hung up (at {state.node})")


def _echo(session: CallSession, event: Event, write: Writer) -> None:
    secure = session.waiting is not None and session.waiting.secure
    if isinstance(event, Digits):
        write(f"YOU  {'****' if secure else event.digits}")
    elif isinstance(event, Timeout):
        write("YOU  (silence)")
    else:
        write("YOU  (hangs up)")
