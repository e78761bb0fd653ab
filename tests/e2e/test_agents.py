"""A caller waits for a person and an agent's phone answers: a real SIP caller (SIPp) held
by the controller (hold music, place in line), an agent made available through the
``ContactCenter`` as the console would, and a second SIPp answering the ``Dial`` to the
agent's PJSIP endpoint. Checked in Asterisk's log and the database (the call itself is
``contact_calls.agent_scenario``, run at the same time as the callback test's).
"""

from __future__ import annotations

from concurrent.futures import Future

import pytest

pytestmark = pytest.mark.asterisk


def test_a_caller_waits_hears_the_place_and_an_agent_answers(
    contact_calls: dict[str, Future[None]],
) -> None:
    contact_calls["agent"].result()
