"""Properties of whole calls on the real ``callflows.yaml``: whatever a caller presses, the
call ends within a bounded number of events, nothing raises, and the PIN leaks nowhere.

The bound is not a guess: ``longest_call`` walks every state the real flow can reach (one
representative event per distinct transition, every outcome of every use case) and returns
the most caller events any call can take. Doing so also proves the flow's state graph has
no cycle.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import hypothesis
import pytest
from fakes import SECRET, WALLET_OPERATIONS, Attempt, FakeStore, FixedClock, PlainPins
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.flow import nodes
from ivr.flow.engine import Engine
from ivr.flow.events import Digits, Event, HungUp, Recorded, Result, Timeout
from ivr.flow.state import ABANDONED, QUEUED, CallStart, CallState
from ivr.flow.survey_parts import SCORE
from ivr.phone.session import CallSession
from ivr.services import ports
from ivr.services.demo import DEMO_ACCOUNTS
from ivr.services.usecases import UseCases

T = TypeVar("T")
#: What the hotline promises: no call takes more caller events than this.
DOCUMENTED_BOUND = 200
PIN = "246810"  # 10000001's PIN in the demo accounts (and so in FakeStore)
SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Mondays 00:00 in Beijing of weeks with a holiday in them, and of an ordinary week.
WEEKS = [
    datetime(2026, 2, 16, tzinfo=SHANGHAI),  # Spring Festival on Tuesday 17
    datetime(2026, 9, 28, tzinfo=SHANGHAI),  # National Day on Thursday 1 October
    datetime(2026, 11, 23, tzinfo=SHANGHAI),
    datetime(2026, 12, 28, tzinfo=SHANGHAI),  # New Year's Day 2027 on Friday
]
PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# -- the bound, by exhaustive search -------------------------------------------------------------


def _choices(engine: Engine, state: CallState) -> Iterator[tuple[int, Event]]:
    """One event per distinct transition out of ``state``, with the caller events it costs."""
    node = engine.flow.nodes[state.node]
    if isinstance(node, nodes.Verify):
        for outcome in ("success", "failure", "locked", "error"):
            yield 0, Result(outcome)
        return
    if isinstance(node, nodes.Action):
        for outcome in (*sorted(node.outcomes), "error", "unheard_of"):
            yield 0, Result(outcome, {"failure_reason": "card_expired"})
        return
    if isinstance(node, nodes.Record):  # the caller speaks, or says nothing
        yield 1, Recorded("words")
        yield 1, Recorded(None)
        return
    assert isinstance(node, nodes.Input)
    yield 1, Timeout()
    yield 1, Digits("x")  # any wrong answer
    if isinstance(node, nodes.Menu | nodes.Language):
        for key in node.choices:
            yield 1, Digits(key)
    elif isinstance(node, nodes.Gather):
        yield 1, Digits("1" * node.min_digits)


def longest_call(engine: Engine, start: CallStart) -> int:
    """The most caller events a call can take before it ends (hanging up not counted)."""
    memo: dict[str, int | None] = {}
    # The call data the engine routes on: branch variables, whether the caller is
    # verified, and what a survey asks by (its score, the reason, the call id). Other
    # values (a category, a recording's id, a use case's figures) only fill prompts.
    routing = {n.var for n in engine.flow.nodes.values() if isinstance(n, nodes.Branch)}
    routing |= {"verified", "reason", "call_id", SCORE}

    def key(state: CallState) -> str:
        raw = state.to_dict()
        del raw["path"]  # history only: the engine never reads it
        for kept in ("timeouts", "invalid", "verification", "left", "handoff"):
            del raw[kept]  # for the reports: they never change where a call goes
        raw["data"] = {k: v for k, v in raw["data"].items() if k in routing}
        return json.dumps(raw, sort_keys=True)

    def longest(state: CallState) -> int:
        if state.ended:
            return 0
        k = key(state)
        if k in memo:
            found = memo[k]
            if found is None:
                raise AssertionError(f"a call can go round forever through {state.node!r}")
            return found
        memo[k] = None
        best = 0
        for cost, event in _choices(engine, state):
            following, _ = engine.step(state, event)
            best = max(best, cost + longest(following))
        memo[k] = best
        return best

    return longest(engine.start(start)[0])


@pytest.fixture(scope="module")
def event_bound(engine: Engine) -> int:
    """Caller events before the call must have ended, for any start of a call."""
    # the start time only picks which queue a call ends in; hours nodes never wait
    at = WEEKS[2].timestamp()
    return max(
        longest_call(engine, CallStart("c", language=lang, started_at=at)) for lang in (None, "en")
    )


def test_the_longest_call_is_within_the_documented_bound(event_bound: int) -> None:
    assert 20 < event_bound <= DOCUMENTED_BOUND


# -- strategies ---------------------------------------------------------------------------------

USEFUL_KEYS = [
    *"0123456789*#",
    *(d.number + "#" for d in DEMO_ACCOUNTS),
    *(d.number for d in DEMO_ACCOUNTS),
    *(d.pin for d in DEMO_ACCOUNTS),
    "99999999#",
    "000000",
    "",
]


def weighted(*choices: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """Pick one of the strategies, each with the given weight (out of their sum)."""
    table = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(table) - 1).flatmap(lambda i: table[i])


keys = weighted(
    (12, st.sampled_from(USEFUL_KEYS)),
    (5, st.text(alphabet="0123456789*#", max_size=40)),
    (3, st.text(alphabet="0123456789*#", min_size=41, max_size=300)),  # long garbage
)
events: st.SearchStrategy[Event] = weighted(
    (88, keys.map(Digits)),
    (10, st.just(Timeout())),
    (2, st.just(HungUp())),
)
anis = st.one_of(
    st.sampled_from([d.phone for d in DEMO_ACCOUNTS] + ["", "anonymous"]),
    st.text(alphabet="+0123456789", max_size=16),
)
languages = st.sampled_from([None, None, "en", "zh", "fr"])
start_times = st.builds(
    lambda week, offset: week + timedelta(seconds=offset),
    st.sampled_from(WEEKS),
    st.integers(0, 7 * 24 * 3600 - 1),
)


def new_session(
    engine: Engine,
    *,
    ani: str,
    language: str | None,
    at: datetime,
    past_failures: int = 0,
    broken: bool = False,
    records_down: bool = False,
) -> tuple[CallSession, FakeStore]:
    """A call on a fresh store. ``broken``: every use case finds the wallet down (the call
    records still work); ``records_down``: the call record cannot be written."""
    clock = FixedClock(at)
    store = FakeStore.with_demo_accounts()
    for minutes in range(past_failures):
        when = at - timedelta(minutes=minutes + 1)
        store.attempts.append(Attempt("10000001", "+15550000000", "earlier", when, False))
    if broken:
        store.fail(*WALLET_OPERATIONS)
    if records_down:
        store.fail("calls.save")
    use_cases = UseCases(store.unit_of_work, clock, lambda: SECRET, PlainPins())
    call = CallStart(
        "prop-call", ani=ani, dnid="95188", language=language, started_at=at.timestamp()
    )
    return CallSession(engine, use_cases, call, "console", clock), store


def assert_one_record(session: CallSession, store: FakeStore) -> ports.CallRecord:
    """The call has ended: exactly one record was saved, and it tells how."""
    state = session.state
    assert state is not None and state.outcome is not None
    [record] = store.calls
    assert record is session.record
    assert (record.call_id, record.caller_id, record.channel) == (
        session.call.call_id,
        session.call.ani,
        "console",
    )
    assert (record.outcome, record.path, record.last_node) == (
        state.outcome,
        state.path,
        state.node,
    )
    assert record.language == state.language
    assert record.reason == state.data.get("reason")
    verified = state.data.get("verified") == "yes"
    assert record.account_number == (state.data["verified_account"] if verified else None)
    assert (record.queue is not None) == (state.outcome == QUEUED)
    return record


PIN_LIKE = [PIN, PIN, PIN, PIN + "#", PIN[:-1], PIN + "0", "0" + PIN, PIN * 2]
ACCOUNT_KEYS = ["10000001#", "10000001", "10000001#", "10000002#", "10000004#", "99999999#"]
no_pin_keys = keys.filter(lambda k: PIN not in k)
no_pin_events: st.SearchStrategy[Event] = weighted(
    (88, no_pin_keys.map(Digits)), (10, st.just(Timeout())), (2, st.just(HungUp()))
)


def answers(
    engine: Engine, session: CallSession, pins: list[str], anything: st.SearchStrategy[Event]
) -> st.SearchStrategy[Event]:
    """What a caller presses at the prompt that waits now: often a sensible answer for that
    prompt (a menu's keys, an account number, a PIN), otherwise ``anything``."""
    state = session.state
    if state is not None and isinstance(engine.flow.nodes.get(state.node), nodes.Record):
        return st.sampled_from([Recorded("words"), Recorded(None), HungUp()])
    waiting = session.waiting
    if waiting is None:
        return anything
    node = engine.flow.nodes[waiting.node]
    if isinstance(node, nodes.Menu | nodes.Language):
        sensible = st.sampled_from(sorted(node.choices))
    elif waiting.secure:
        sensible = st.sampled_from(pins)
    else:
        sensible = st.sampled_from(ACCOUNT_KEYS)
    return weighted((6, sensible.map(Digits)), (4, anything))


# -- properties ---------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    data=st.data(),
    length=st.integers(0, 120),
    ani=anis,
    language=languages,
    at=start_times,
    past_failures=st.integers(0, 5),
    broken=st.booleans(),
    records_down=weighted((9, st.just(False)), (1, st.just(True))),
)
def test_every_call_ends_within_the_bound_and_leaves_one_record(
    engine: Engine,
    event_bound: int,
    data: st.DataObject,
    length: int,
    ani: str,
    language: str | None,
    at: datetime,
    past_failures: int,
    broken: bool,
    records_down: bool,
) -> None:
    session, store = new_session(
        engine,
        ani=ani,
        language=language,
        at=at,
        past_failures=past_failures,
        broken=broken,
        records_down=records_down,
    )
    pins = [d.pin for d in DEMO_ACCOUNTS] + ["000000"]
    session.start()
    answered = 0
    while answered < length and not session.ended:
        # While the call is in progress its one record is open (unless records are down).
        assert [r.open for r in store.calls] == ([] if records_down else [True])
        session.answer(data.draw(answers(engine, session, pins, events)))
        answered += 1
        assert session.ended or answered < event_bound

    if not session.ended:  # the keys ran out: the caller hangs up
        session.answer(HungUp())
        assert session.ended
        assert session.state is not None and session.state.outcome == ABANDONED
    assert session.state is not None and session.state.outcome
    hypothesis.event(f"ended: {session.state.outcome} at {session.state.node}")
    if session.state.data.get("verified") == "yes":
        hypothesis.event("verified")
    json.dumps(session.summary(), ensure_ascii=False)

    session.answer(HungUp())  # anything after the end records nothing more
    hypothesis.event(f"wallet down: {broken}, records down: {records_down}")
    if records_down:  # the call went on regardless; the record is lost, not the call
        assert store.calls == [] and session.record is not None
    else:
        assert_one_record(session, store)


def leaks(text: str) -> bool:
    return PIN in text


@PROPERTY_SETTINGS
@given(
    data=st.data(),
    length=st.integers(1, 80),
    ani=anis.filter(lambda a: PIN not in a),
    language=languages,
    at=start_times,
)
def test_the_pin_never_reaches_the_transcript(
    engine: Engine,
    data: st.DataObject,
    length: int,
    ani: str,
    language: str | None,
    at: datetime,
) -> None:
    session, store = new_session(engine, ani=ani, language=language, at=at)
    session.start()
    for _ in range(length):
        if session.ended:
            break
        secure = session.waiting is not None and session.waiting.secure
        # the PIN is typed only where the hotline asks for it; anywhere else it is the
        # caller's own doing and is recorded like any other keys
        event = data.draw(answers(engine, session, PIN_LIKE, no_pin_events))
        if secure and isinstance(event, Digits) and PIN in event.digits:
            hypothesis.event("typed the PIN at the secure prompt")
        elif isinstance(event, Digits):
            assert PIN not in event.digits
        session.answer(event)
        assert session.state is not None
        assert not leaks(json.dumps(session.state.to_dict(), ensure_ascii=False))
        assert not leaks(repr(session.state))

    if not session.ended:
        session.answer(HungUp())
    assert not leaks(json.dumps(session.summary(), ensure_ascii=False))
    assert not leaks(repr(session.transcript))
    assert_one_record(session, store)
    assert not leaks(repr(store.calls))
    assert not leaks(repr(store.audit))
    assert not leaks(repr(store.attempts))
    assert not leaks(repr(store.incidents))


def test_the_pin_property_does_type_the_pin(engine: Engine) -> None:
    """The property above is not vacuous: a scripted call that types the PIN at the
    secure prompt (and is verified with it) leaves no trace of it."""
    session, store = new_session(engine, ani="+8613800138001", language="en", at=WEEKS[2])
    session.start()
    for keys_ in ("1", "10000001#", PIN, "9"):
        session.answer(Digits(keys_))

    assert session.state is not None and session.state.data.get("verified") == "yes"
    assert not leaks(json.dumps(session.summary(), ensure_ascii=False))
    record = assert_one_record(session, store)
    assert record.account_number == "10000001"
    assert [(a.account_number, a.ok) for a in store.attempts] == [("10000001", True)]
    assert [row.action for row in store.audit] == ["reset_code_sent"]
    assert not leaks(repr((store.calls, store.audit, store.attempts, store.incidents)))


def test_keys_after_hanging_up_at_the_pin_prompt_are_not_recorded_in_clear(
    engine: Engine,
) -> None:
    session, store = new_session(engine, ani="+8613800138001", language="en", at=WEEKS[2])
    session.start()
    for event in (Digits("1"), Digits("10000001#"), HungUp()):
        session.answer(event)
    assert session.ended

    assert session.answer(Digits(PIN)) == []  # the engine ignores it, rightly
    assert not leaks(json.dumps(session.summary(), ensure_ascii=False))
    record = assert_one_record(session, store)
    assert (record.outcome, record.last_node) == (ABANDONED, "ask_pin")
    assert not leaks(repr(record)) and store.attempts == []
