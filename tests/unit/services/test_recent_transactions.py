"""The caller's own latest transactions (main menu 6): the use case over a fake store, then
the branch through the real flow, in both languages, with none, one, three and more
than three transactions, and with the store gone during the lookup."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fakes import Dialer, FakeStore, FixedClock

from ivr.flow.actions import Prompt, RunAction
from ivr.flow.engine import Engine
from ivr.flow.events import Result
from ivr.flow.prompts import fill
from ivr.phone.hold_prompts import callback_greeting
from ivr.phone.session import CallSession
from ivr.services import ports
from ivr.services.registry import HOTLINE_ACTIONS, TRANSACTION_STATUSES
from ivr.services.usecases import UseCases

CALL_ID = "call-tx"
WHEN = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def as_verified(number: str, language: str = "en") -> dict[str, str]:
    return {
        "verified": "yes",
        "verified_account": number,
        "account_number": number,
        "language": language,
        "call_id": CALL_ID,
    }


def look(use_cases: UseCases, number: str, language: str = "en") -> Result:
    args = as_verified(number, language)
    return use_cases.run(RunAction("recent_lookup", "recent_transactions", args, frozenset()))


def give(store: FakeStore, number: str, *statuses: str) -> None:
    """Replace the account's transactions: one a day back from WHEN, newest first."""
    store.transactions[number] = [
        ports.Transaction(1_000 * (i + 1), "CNY", f"Shop {i + 1}", WHEN - timedelta(days=i), s)
        for i, s in enumerate(statuses)
    ]


def heard(session: CallSession) -> list[str]:
    """Every prompt id the caller heard, in order."""
    out = []
    for entry in session.transcript.entries:
        for prompt in entry.get("play", []) + entry.get("prompts", []):
            out.append(prompt["id"])
    return out


def texts(session: CallSession) -> str:
    return " ".join(
        prompt["text"]
        for entry in session.transcript.entries
        for prompt in entry.get("play", []) + entry.get("prompts", [])
    )


def enqueued(session: CallSession) -> dict[str, Any] | None:
    """The queue the call ended in, as the transcript says it."""
    found = [e["enqueue"] for e in session.transcript.entries if "enqueue" in e]
    return found[-1] if found else None


# -- the use case ------------------------------------------------------------------------------


def test_more_than_three_reads_the_newest_three_in_english(use_cases: UseCases) -> None:
    """10000005 has five: a pending one, the failed payment, a refund, two older ones."""
    result = look(use_cases, "10000005")

    assert result == Result(
        "found",
        {
            "tx_count": "3",
            "tx1_amount": "23.50 dollars",
            "tx1_merchant": "Corner Cafe",
            "tx1_date": "November 19",
            "tx1_status": "pending",
            "tx2_amount": "125.00 dollars",
            "tx2_merchant": "City Rail",
            "tx2_date": "November 18",
            "tx2_status": "failed",
            "tx3_amount": "60.00 dollars",
            "tx3_merchant": "Book Nook",
            "tx3_date": "November 17",
            "tx3_status": "refunded",
        },
    )


def test_three_in_chinese(use_cases: UseCases) -> None:
    result = look(use_cases, "10000001", "zh")

    assert result.outcome == "found" and result.data["tx_count"] == "3"
    assert (result.data["tx1_amount"], result.data["tx1_date"]) == ("89.90元", "11月20日")
    assert result.data["tx1_status"] == "failed"
    assert [result.data[f"tx{n}_status"] for n in (2, 3)] == ["completed", "completed"]
    assert result.data["tx2_date"] == "11月17日" and result.data["tx3_date"] == "11月14日"


def test_one_transaction(use_cases: UseCases, store: FakeStore) -> None:
    give(store, "10000003", "completed")

    result = look(use_cases, "10000003", "zh")

    assert result == Result(
        "found",
        {
            "tx_count": "1",
            "tx1_amount": "10.00元",
            "tx1_merchant": "Shop 1",
            "tx1_date": "11月10日",
            "tx1_status": "completed",
        },
    )


def test_no_transactions(use_cases: UseCases, store: FakeStore) -> None:
    assert store.transactions["10000003"] == []

    assert look(use_cases, "10000003") == Result("none")


def test_a_status_the_hotline_has_no_words_for_is_said_as_other(
    use_cases: UseCases, store: FakeStore
) -> None:
    give(store, "10000003", "reversed", "refunded")

    result = look(use_cases, "10000003")

    assert (result.data["tx1_status"], result.data["tx2_status"]) == ("other", "refunded")


def test_every_value_the_use_case_gives_is_registered(
    use_cases: UseCases, store: FakeStore
) -> None:
    spec = HOTLINE_ACTIONS["recent_transactions"]
    give(store, "10000003", *sorted(TRANSACTION_STATUSES - {"other"}), "odd")

    result = look(use_cases, "10000003")

    assert result.outcome in spec.outcomes
    assert set(result.data) <= set(spec.outputs)
    for name, value in result.data.items():
        fixed = spec.outputs[name]
        assert fixed is None or value in fixed, (name, value)


def test_the_lookup_is_audited_and_changes_nothing_else(
    use_cases: UseCases, store: FakeStore, clock: FixedClock
) -> None:
    look(use_cases, "10000005")
    look(use_cases, "10000003")

    assert [(r.at, r.call_id, r.account_number, r.action, r.detail) for r in store.audit] == [
        (clock.now(), CALL_ID, "10000005", "transactions_read", {"count": 3}),
        (clock.now(), CALL_ID, "10000003", "transactions_read", {"count": 0}),
    ]
    assert store.committed == [("audit.record",), ("audit.record",)]


def test_a_caller_who_is_not_verified_is_refused(use_cases: UseCases, store: FakeStore) -> None:
    args = {**as_verified("10000005"), "verified": "no"}

    result = use_cases.run(RunAction("n", "recent_transactions", args, frozenset()))

    assert result == Result("error") and store.audit == []


def test_another_accounts_transactions_are_never_read(
    use_cases: UseCases, store: FakeStore
) -> None:
    """The use case reads the account the caller verified as, not one typed later."""
    args = {**as_verified("10000003"), "account_number": "10000005"}

    result = use_cases.run(RunAction("n", "recent_transactions", args, frozenset()))

    assert result == Result("none")


def test_the_store_going_away_during_the_lookup_gives_error(
    use_cases: UseCases, store: FakeStore
) -> None:
    store.fail("accounts.recent_transactions")

    assert look(use_cases, "10000005") == Result("error")
    assert store.audit == [] and store.commits == 0


# -- through the flow ------------------------------------------------------------------------


def test_three_are_read_then_the_caller_says_goodbye(hotline: Dialer) -> None:
    session = hotline.call("1 6 10000005# 778899 9")

    assert heard(session)[-9:] == [
        "recent_last_three",
        "recent_tx1",
        "transaction_status_pending",
        "recent_tx2",
        "transaction_status_failed",
        "recent_tx3",
        "transaction_status_refunded",
        "recent_followup",
        "goodbye",
    ]
    said = texts(session)
    assert "On November 19, 23.50 dollars at Corner Cafe." in said
    assert "Before that, on November 18, 125.00 dollars at City Rail." in said
    assert session.state is not None and session.state.outcome == "solved"


def test_chinese_is_read_in_natural_order_with_full_width_punctuation(hotline: Dialer) -> None:
    session = hotline.call("2 6 10000001# 246810 9")

    said = texts(session)
    assert "最近一笔是11月20日，在Fresh Mart支付89.90元， 交易失败。" in said
    assert "前一笔是11月17日，在Fresh Mart支付44.95元， 交易成功。" in said
    assert "重听请按1，转支付专员请按0，结束通话请按9。" in said
    mine = [
        prompt["text"]
        for entry in session.transcript.entries
        for prompt in entry.get("play", []) + entry.get("prompts", [])
        if prompt["id"].startswith(("recent_", "transaction_status_", "transactions_intro"))
    ]
    assert len(mine) == 9
    assert not any(re.search(r"[\u4e00-\u9fff][,.?!;:]", text) for text in mine)


def test_one_transaction_has_its_own_opening(hotline: Dialer, store: FakeStore) -> None:
    give(store, "10000003", "refunded")

    session = hotline.call("1 6 10000003# 112233 9")

    assert heard(session)[-5:] == [
        "recent_only_one",
        "recent_tx1",
        "transaction_status_refunded",
        "recent_followup",
        "goodbye",
    ]
    assert "recent_tx2" not in heard(session)


def test_two_transactions_have_their_own_opening(hotline: Dialer, store: FakeStore) -> None:
    give(store, "10000003", "completed", "pending")

    session = hotline.call("1 6 10000003# 112233 9")

    assert "recent_last_two" in heard(session)
    assert "recent_tx2" in heard(session) and "recent_tx3" not in heard(session)


def test_none_has_its_own_prompt_then_anything_else(hotline: Dialer) -> None:
    session = hotline.call("1 6 10000003# 112233 9")

    assert heard(session)[-3:] == ["recent_none", "anything_else", "goodbye"]


def test_1_reads_them_again_and_0_reaches_the_payments_team(hotline: Dialer) -> None:
    session = hotline.call("1 6 10000005# 778899 1 0")

    assert heard(session).count("recent_last_three") == 2
    queued = enqueued(session)
    assert queued is not None and queued["queue"] == "payments"


def test_hearing_them_again_is_bounded(hotline: Dialer) -> None:
    session = hotline.call("1 6 10000005# 778899 1 1 1")

    assert heard(session).count("recent_last_three") == 3
    queued = enqueued(session)
    assert queued is not None and queued["queue"] == "payments"


def test_an_outage_during_the_lookup_takes_the_caller_to_the_safe_route(
    hotline: Dialer, store: FakeStore
) -> None:
    store.fail("accounts.recent_transactions")

    session = hotline.call("1 6 10000005# 778899")

    [use] = [u for u in session.transcript.use_cases if u["use_case"] == "recent_transactions"]
    assert use["outcome"] == "error"
    assert "system_error" in heard(session) and "recent_tx1" not in heard(session)
    queued = enqueued(session)
    assert queued is not None and queued["queue"] == "general"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_branch_is_offered_on_the_main_menu(hotline: Dialer, language: str) -> None:
    session = hotline.call("t", language=language)

    menu = [
        prompt["text"]
        for entry in session.transcript.entries
        for prompt in entry.get("prompts", [])
        if prompt["id"] == "main_menu"
    ]
    assert menu and ("6" in menu[0])


def test_a_callback_says_it_is_about_the_transactions(engine: Engine) -> None:
    """A caller who asked for the payments team from here and chose a callback hears
    what it is about when it comes."""
    catalog = engine.flow.catalog

    def prompt(prompt_id: str, **values: str) -> Prompt:
        text = catalog.text(prompt_id, "en")
        assert text is not None, prompt_id
        return Prompt(prompt_id, "en", fill(text, values), values)

    greeting = callback_greeting(prompt, catalog.__contains__, "transactions", "482917")

    assert greeting[1].text == "It's about your recent transactions."
