"""The callback dialogue written once for Asterisk and Twilio (``ivr.center.callback_dialogue``):
pure, event by event."""

from __future__ import annotations

import pytest

from ivr.center import callback_dialogue as talk
from ivr.center.callback_dialogue import (
    ArrangeAt,
    Arranged,
    Ask,
    Dialogue,
    Keys,
    NotArranged,
    Over,
    Say,
)

CALLER = "+8613800138001"


def answer(steps: tuple[Dialogue, list[talk.Action]], *events: talk.Event) -> talk.Steps:
    dialogue, _ = steps
    for event in events:
        dialogue, actions = talk.step(dialogue, event)
    return dialogue, actions


def test_a_caller_with_a_number_is_offered_it_by_its_last_four_digits() -> None:
    dialogue, actions = talk.start(CALLER)
    assert actions == [Ask("callback_number_choice", {"last4": "8001"})]
    assert dialogue.phase == talk.CHOOSE


def test_a_caller_without_a_usable_number_is_asked_to_type_one() -> None:
    for caller in (None, "e2e-caller"):
        _, actions = talk.start(caller)
        assert actions == [Ask("callback_enter_number", {}, 3, 15, "#")]


def test_1_arranges_the_callback_at_the_callers_number_and_reads_the_code_twice() -> None:
    dialogue, actions = answer(talk.start(CALLER), Keys("1"))
    assert actions == [ArrangeAt(CALLER)]
    _, actions = talk.step(dialogue, Arranged("482917"))
    assert actions == [
        Say("callback_code", {"code": "482917"}, frozenset({"code"})),
        Say("callback_scheduled"),
        Over(True),
    ]


def test_the_code_prompt_says_the_code_twice() -> None:
    from pathlib import Path

    from ivr.flow.loader import load_catalog
    from ivr.flow.located import Reader

    root = Path(__file__).resolve().parents[3]
    catalog = load_catalog(root / "prompts" / "prompts.yaml", ("en", "zh"), Reader())
    assert catalog is not None
    for language in ("en", "zh"):
        text = catalog.text("callback_code", language) or ""
        assert text.count("{code}") == 2, text


def test_2_then_a_typed_number_confirmed_with_1_is_arranged() -> None:
    dialogue, actions = answer(talk.start(CALLER), Keys("2"), Keys("5551234#"))
    assert actions == [Ask("callback_confirm_number", {"number": "5551234"})]
    _, actions = talk.step(dialogue, Keys("1"))
    assert actions == [ArrangeAt("5551234")]


def test_a_refused_confirmation_asks_for_the_number_again_and_counts_as_a_try() -> None:
    steps = talk.start(None)
    dialogue, actions = answer(steps, Keys("5551234"), Keys("2"))
    assert actions == [talk.ask(Dialogue(talk.ENTER))]
    assert dialogue.number is None and dialogue.tries == 1
    _, actions = answer((dialogue, actions), Keys("5551234"), Keys(""))
    assert actions == [Say("callback_unavailable"), Over(False)]


@pytest.mark.parametrize("keys", ["", "7", "12"])
def test_two_bad_or_missing_answers_end_without_a_callback(keys: str) -> None:
    steps = talk.start(CALLER)
    dialogue, actions = answer(steps, Keys(keys))
    assert actions == [Ask("callback_number_choice", {"last4": "8001"})]  # asked again
    _, actions = answer((dialogue, actions), Keys(keys))
    assert actions == [Say("callback_unavailable"), Over(False)]


def test_a_callback_that_could_not_be_arranged_is_unavailable() -> None:
    dialogue, _ = answer(talk.start(CALLER), Keys("1"))
    _, actions = talk.step(dialogue, NotArranged())
    assert actions == [Say("callback_unavailable"), Over(False)]


@pytest.mark.parametrize("stays", [True, False])
def test_a_caller_who_will_not_wait_on_is_not_asked_to_stay_on_the_line(stays: bool) -> None:
    """Nobody who could take the call is signed in: the hold says goodbye next, so the
    dialogue must not say "please stay on the line"; the choice survives the memo."""
    dialogue, _ = talk.start(CALLER, stays=stays)
    dialogue = Dialogue.from_dict(dialogue.to_dict())  # Twilio keeps it between webhooks
    _, actions = answer((dialogue, []), Keys(""), Keys(""))
    said = "callback_unavailable" if stays else "callback_not_arranged"
    assert actions == [Say(said), Over(False)]


def test_an_event_out_of_place_is_our_error() -> None:
    dialogue, _ = talk.start(CALLER)
    with pytest.raises(talk.DialogueError):
        talk.step(dialogue, Arranged("1"))
    arranging, _ = talk.step(dialogue, Keys("1"))
    with pytest.raises(talk.DialogueError):
        talk.step(arranging, Keys("1"))


def test_the_state_round_trips_through_json_data() -> None:
    dialogue, _ = answer(talk.start(CALLER), Keys("2"), Keys("5551234"))
    assert Dialogue.from_dict(dialogue.to_dict()) == dialogue


def test_dialable_numbers() -> None:
    assert talk.dialable("+8613800138001") and talk.dialable("5551234")
    assert not talk.dialable("") and not talk.dialable("e2e-caller")
    assert not talk.dialable("12") and not talk.dialable("555\n1234")
    assert talk.last4("+8613800138001") == "8001"
