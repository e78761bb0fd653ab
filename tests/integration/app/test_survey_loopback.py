"""The survey after a talk with an agent on a blocking line (the loopback phone, through
the real process runner, as Asterisk's AGI runs it): once the agent hangs up, the caller
still on the line rates the agent and leaves a recorded comment; the answer names the
queue and the agent, and the call's record stays a call a person took."""

from __future__ import annotations

from collections.abc import Callable

from integration.app.test_third_channel import Served, closed, serve, until
from integration.support import LI_WEI, Db, sign_in_busy
from ivr.app.bootstrap import Components

__all__ = ["serve"]  # the fixture, shared with test_third_channel

#: English, the payment branch, verified, then 0: the payments team (open hours).
TO_PAYMENTS = f"1 2 {LI_WEI[0]}# {LI_WEI[1]} 0"


def talk_to_alice(served: Served, hotline: Components, db: Db, call_id: str, keys: str):  # type: ignore[no-untyped-def]
    caller = served.call(call_id, f"{TO_PAYMENTS} {keys}", talk=True)
    caller.wait_for(lambda c: "queue_position" in c.prompts())
    center = hotline.contact_center
    alice = next(a for a in center.agents_view() if a.username == "alice")
    center.set_availability(alice.id, True)
    caller.wait_for(lambda c: "RING" in [m.verb for m in c.heard])
    entry = db.one("queue_entries", call_id=call_id)
    until(lambda: db.one("queue_entries", id=entry["id"])["state"] == "connected", "PICKUP")
    caller.talk_over.set()
    caller.join()
    return caller, entry, alice


def test_after_the_talk_the_caller_rates_the_agent_and_leaves_a_comment(
    serve: Callable[[Components], Served], hotline: Components, db: Db
) -> None:
    sign_in_busy(db)
    served = serve(hotline)
    caller, entry, alice = talk_to_alice(served, hotline, db, "loop-s1", "4 1 great_help")

    assert caller.prompts()[-5:] == [
        "survey_agent_score", "survey_comment_offer", "survey_record_comment", "survey_thanks",
        "goodbye",
    ]  # fmt: skip
    answer = db.one("survey_answers", call_id="loop-s1")
    assert (answer["score"], answer["queue"], answer["agent_id"]) == (4, "payments", alice.id)
    recording = db.one("recordings", id=answer["comment_recording"])
    assert recording["location"] == f"{answer['comment_recording']}.txt"
    assert db.one("queue_entries", id=entry["id"])["state"] == "done"
    record = closed(db, "loop-s1")
    assert (record["outcome"], record["queue"]) == ("queued", "payments")
    assert record["last_node"] == "goodbye"


def test_a_caller_who_hangs_up_during_the_survey_leaves_no_answer(
    serve: Callable[[Components], Served], hotline: Components, db: Db
) -> None:
    sign_in_busy(db)
    served = serve(hotline)
    caller, _, _ = talk_to_alice(served, hotline, db, "loop-s2", "3 1 h")
    assert caller.prompts()[-1] == "survey_record_comment"
    assert db.count("survey_answers") == 0 and db.count("recordings") == 0
    record = closed(db, "loop-s2")
    assert (record["outcome"], record["queue"]) == ("queued", "payments")
