"""What the agent console says of states and codes, in one place: the page renders it,
and hands it to ``static/console.js`` (as JSON in ``data-words``) so that the script's
updates say exactly the same."""

from __future__ import annotations

from typing import Any

#: The status line, by the agent's state (``{reason}``: why a paused agent is paused).
STATUS = {
    "offline": "You are offline: no calls come to you.",
    "available": "You are available: waiting for the next caller.",
    "ringing": "A call is ringing: answer it on your phone.",
    "on_call": "You are on a call.",
    "wrap_up": "Wrap-up: finish the notes of the last call.",
    "paused": "You are paused ({reason}): no calls come to you.",
    "missed": "You did not answer a call, so no calls are offered to you. "
    "Go available when you are ready.",
}
#: Which controls show in which states (``data-states`` on each).
CONTROLS = {
    "go-available": ("offline", "missed", "paused", "wrap_up"),
    "pause": ("available", "wrap_up", "paused"),
    "go-offline": ("available", "paused", "ringing", "wrap_up", "missed"),
    "take-next": ("available", "wrap_up"),
}
LANGUAGES = {"en": "English", "zh": "Chinese (中文)"}
KINDS = {"call": "The customer called in", "callback": "A callback: we call the customer"}
CALL_STATES = {
    "offered": "Ringing at your phone",
    "connected": "Connected",
    "done": "Ended: write the notes",
}
ACCOUNT_STATES = {"active": "Active", "frozen": "Frozen", "closed": "Closed"}
#: Keyboard shortcuts (never inside a text field): key -> what it does.
SHORTCUTS = {
    "a": "Take the next caller (when you are available)",
    "f": "Go to the end-of-call form",
    "p": "Go to the pause reason",
    "?": "Show or hide this list",
}


def words() -> dict[str, Any]:
    return {
        "status": STATUS,
        "controls": CONTROLS,
        "languages": LANGUAGES,
        "kinds": KINDS,
        "call_states": CALL_STATES,
        "account_states": ACCOUNT_STATES,
    }
