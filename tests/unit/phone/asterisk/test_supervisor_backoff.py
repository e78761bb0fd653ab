"""The pauses before the sandbox starts its controller again (``ivr.phone.asterisk.supervisor``)."""

from __future__ import annotations

from ivr.phone.asterisk.supervisor import Backoff


def test_the_pause_doubles_up_to_the_longest_and_starts_over_after_a_calm_run() -> None:
    backoff = Backoff(first=1, longest=30, calm=60)
    pauses = [0.0]
    for _ in range(7):
        pauses.append(backoff.pause(pauses[-1], ran=2))
    assert pauses[1:] == [1, 2, 4, 8, 16, 30, 30]
    assert backoff.pause(30, ran=61) == 1
