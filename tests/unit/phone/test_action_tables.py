"""A new line action touches the engine, its action type and each driver's one table: every
table holds every line action (``ivr.flow.actions.LINE_ACTIONS``), so a type added to the
engine and forgotten by a driver fails here, not in the middle of a call."""

from __future__ import annotations

import typing

import pytest
from loopback import line as loopback_line

from ivr.flow import actions as act
from ivr.phone import terminal, transcript
from ivr.phone.asterisk import agi_driver
from ivr.phone.twilio import twiml

TABLES = {
    "asterisk (AGI commands)": agi_driver.PERFORMERS,
    "twilio (TwiML)": twiml.RENDERERS,
    "transcript": transcript.ENTRIES,
    "terminal phone": terminal.SHOWN,
    "loopback phone (tests/loopback)": loopback_line.PERFORMERS,
}


def test_the_line_actions_are_every_action_but_the_sessions_own() -> None:
    assert act.LINE_ACTIONS == set(typing.get_args(act.Action)) - {act.RunAction}


@pytest.mark.parametrize("table", TABLES.values(), ids=list(TABLES))
def test_each_drivers_table_does_every_line_action(table: dict[type, object]) -> None:
    assert act.LINE_ACTIONS <= set(table)
