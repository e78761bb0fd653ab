"""A callback, end to end: a caller on hold presses 1, keeps their place and is given a
six-digit reference code; they hang up. An agent becomes available; the controller's
dispatcher writes a call file, Asterisk rings the customer (a SIPp phone behind the
``hotline-callbacks`` endpoint), who hears the greeting and THE SAME code, and the agent's
phone answers. A second attempt at the same request is refused and no second call is made.
(The calls are ``contact_calls.callback_scenario``, run at the same time as the agent
test's.)
"""

from __future__ import annotations

from concurrent.futures import Future

import pytest

pytestmark = pytest.mark.asterisk


def test_a_callback_says_the_code_it_gave_and_is_made_once(
    contact_calls: dict[str, Future[None]],
) -> None:
    contact_calls["callback"].result()
