"""The screen pop in words (``ivr.services.call_story``) on a real database: the holder's
name and the account's status from the account store, whether the caller verified, what
the IVR told them (from the audit log's rows for the call) and the path as steps; a call
with no account, a frozen account and a lookup that found nothing; never a secret."""

from __future__ import annotations

from integration.services.test_contact_store import available, center
from integration.support import Db, StoppedClock
from integration.web_client import caller
from ivr.app.bootstrap import Components
from ivr.services.call_story import CallStory, money
from ivr.services.contact_center import ContactCenter
from ivr.services.path_words import step, step_words

__all__ = ["center"]  # the fixtures, used by name

PAYMENT_PATH = ("choose_language", "welcome", "main_menu", "payment_intro", "identify",
                "ask_account", "ask_pin", "check_identity", "after_verify", "payment_lookup",
                "payment_details", "payment_followup", "payments_agent")  # fmt: skip


def told(hotline: Components, clock: StoppedClock, call_id: str, *actions: str) -> None:
    """What the IVR's use cases record for the call (``uow.audit.record``)."""
    with hotline.unit_of_work() as uow:
        for action in actions:
            uow.audit.record(clock.now(), call_id, None, action, {})
        uow.audit.record(clock.now(), call_id, None, "desk_viewed", {}, "agent:bob")
        uow.commit()


def story_of(center: ContactCenter, clock: StoppedClock, call_id: str, **kw: object) -> CallStory:
    entry = center.enqueue(caller(call_id, "payments", **kw))  # type: ignore[arg-type]
    bob = next(a.id for a in center.agents_view() if a.username == "alice")
    available(center, clock, bob)
    [offer] = center.dispatch()
    assert offer.entry.id == entry.id
    story = center.desk(bob).story
    assert story is not None
    return story


def test_a_verified_payment_caller_reads_as_words(
    center: ContactCenter, hotline: Components, clock: StoppedClock
) -> None:
    told(hotline, clock, "story-1", "queue_entered", "failed_payment_looked_up")
    story = story_of(center, clock, "story-1", account="10000002", path=PAYMENT_PATH)
    assert (story.holder_name, story.account_status, story.verified) == (
        "Emma Walker", "active", True)  # fmt: skip
    assert story.verification == "Verified with account number and PIN."
    assert story.reason == "A failed payment"
    assert story.told == (
        "Told the caller: payment of $450.00 to Skyline Electronics failed — held by risk control.",
    )
    assert "Looked up the failed payment" in story.path and "Verified" in story.path
    assert not any("_" in words for words in story.path)  # no raw node ids


def test_a_call_with_no_account_says_so(center: ContactCenter, clock: StoppedClock) -> None:
    path = ("choose_language", "welcome", "main_menu", "identify", "ask_account", "ask_pin",
            "check_identity", "verify_failed", "ask_account", "ask_pin", "check_identity",
            "verify_failed", "agent")  # fmt: skip
    story = story_of(center, clock, "story-2", account=None, reason=None, path=path)
    assert (story.holder_name, story.account_status, story.verified) == (None, None, False)
    assert story.verification == "Not verified: 2 wrong tries."
    assert story.reason == "not said" and story.told == ()
    assert story.path.count("Wrong account number or PIN") == 2


def test_a_frozen_account_and_a_lookup_that_found_nothing(
    center: ContactCenter, hotline: Components, clock: StoppedClock, db: Db
) -> None:
    told(hotline, clock, "story-3", "failed_payment_looked_up", "account_frozen")
    story = story_of(center, clock, "story-3", account="10000004", reason="security")
    assert (story.holder_name, story.account_status) == ("Chen Jie", "frozen")
    assert story.told == ("Told the caller: no failed payment was found.",
                          "Froze the account after a fraud report.")  # fmt: skip
    assert story.reason == "Security: fraud or a lost phone"


def test_the_screen_pop_holds_no_secret(
    center: ContactCenter, hotline: Components, clock: StoppedClock
) -> None:
    with hotline.unit_of_work() as uow:  # a row that carries a code must not leak
        uow.audit.record(clock.now(), "story-4", "10000001", "reset_code_sent",
                         {"code": "493817", "pin": "246810"})  # fmt: skip
        uow.commit()
    story = story_of(center, clock, "story-4", account="10000001")
    assert story.holder_name == "Li Wei"
    assert story.told == ("Sent a password reset code by SMS.",)
    assert "493817" not in repr(story) and "246810" not in repr(story)


def test_words_for_an_unknown_node_and_money() -> None:
    assert step("payment_lookup_v2") == "Payment lookup v2"
    assert step("") == "A step"
    assert step_words(["main_menu", "main_menu", "agent"]) == ("Main menu", "Asked for an agent")
    assert money(12_800, "CNY") == "¥128.00"
    assert money(-5, "XYZ") == "-0.05 XYZ"
