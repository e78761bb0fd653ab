"""What an agent does, shared by the console's forms and the JSON API: input is checked
here (400 with the field), and the contact centre's refusals become 404 or 409."""

from __future__ import annotations

from ivr.services.contact_agents import DISPOSITIONS, PAUSE_REASONS, Agent, Note
from ivr.services.contact_entries import Refused
from ivr.services.contact_snapshots import Assignment
from ivr.web.context import center, now
from ivr.web.errors import WebError, bad_input

STATES = ("available", "paused", "offline")
NOTES_LIMIT = 4000
#: ``ContactCenter.call_now``'s refusal for an id it does not know (a 404, not a 409).
NO_SUCH_CALLBACK = "no such callback"


#: What "Call now" says when the callback cannot be called now (``callback_desk``'s
#: refusals): a sentence an agent acts on, not the service's words.
CALL_NOW_WORDS = {
    "callback is being dialled": "The dialler is already calling this customer back: "
    "nothing to do, the call comes to an agent when they answer.",
    "callback already dialled": "This customer has already been called back and answered.",
    "callback already offered to an agent": "This callback is already ringing at an agent.",
    "callback already done": "This callback is finished already.",
    "callback expired": "This callback has expired: it is too late to call back.",
    "callback failed after its last attempt": "Every attempt to call back has been made.",
    "callback cancelled: the caller phoned back": "The customer phoned back themselves, "
    "so this callback was cancelled.",
}


def set_state(agent: Agent, state: object, where: str = "state", reason: object = None) -> Agent:
    """Available, offline, or paused for ``reason`` (one of ``PAUSE_REASONS``)."""
    if state not in STATES:
        raise bad_input(f"state must be one of {', '.join(STATES)}, not {state!r}", where)
    if state == "paused":
        if reason not in PAUSE_REASONS:
            allowed = ", ".join(PAUSE_REASONS)
            raise bad_input(f"reason must be one of {allowed}, not {reason!r}", "reason")
        paused = center().pause(agent.id, str(reason), None)
        if isinstance(paused, Refused):
            raise WebError(409, f"cannot pause: {paused.reason}")
        return paused
    done = center().set_availability(agent.id, state == "available")
    if isinstance(done, Refused):
        raise WebError(409, f"cannot go {state}: {done.reason}")
    return done


def force_offline(supervisor: Agent, agent_id: int) -> Agent:
    """A supervisor sets an agent offline, whatever they are doing (an offer ringing is
    withdrawn, a talk is finished)."""
    done = center().force_offline(agent_id, supervisor)
    if isinstance(done, Refused):
        raise WebError(404, f"agent {agent_id} not set offline: {done.reason}")
    return done


def claim(agent: Agent) -> Assignment:
    if not agent.free_at(now()):  # available, or a wrap-up that has run out
        raise WebError(409, f"you are {agent.state.replace('_', ' ')}: go available first")
    assigned = center().claim_next(agent.id)
    if assigned is None:
        raise WebError(404, "nobody is waiting whom you can take (skills, languages)")
    return assigned


def complete(agent: Agent, entry_id: int, disposition: object, notes: object) -> Note:
    if disposition not in DISPOSITIONS:
        allowed = ", ".join(DISPOSITIONS)
        raise bad_input(f"disposition must be one of {allowed}, not {disposition!r}", "disposition")
    if notes is None:
        notes = ""
    if not isinstance(notes, str):
        raise bad_input("notes must be text", "notes")
    if len(notes) > NOTES_LIMIT:
        raise bad_input(f"notes are {len(notes)} characters; at most {NOTES_LIMIT}", "notes")
    done = center().complete(agent.id, entry_id, str(disposition), notes.strip())
    if isinstance(done, Refused):
        raise WebError(409, f"call {entry_id} not completed: {done.reason}")
    return done


def call_now(agent: Agent, callback_id: int) -> Assignment:
    done = center().call_now(callback_id, agent.id)
    if isinstance(done, Refused) and done.reason == NO_SUCH_CALLBACK:
        raise WebError(404, f"no callback {callback_id}")
    if isinstance(done, Refused) and done.reason in CALL_NOW_WORDS:
        raise WebError(409, f"Callback {callback_id}: {CALL_NOW_WORDS[done.reason]}")
    if isinstance(done, Refused):
        raise WebError(409, f"callback {callback_id} not dialled: {done.reason}")
    return done
