"""Demo calls: a month of simulated callers driven through the real engine, for the
reports to show (``ivr seed --demo --calls N``).

Each caller is a small random policy over the flow the engine runs: at a menu they press
one of its keys (the main menu's weighted like a wallet hotline's traffic), sometimes a
wrong key, sometimes nothing, and now and then they hang up; at a gather they type
digits of the right length; a use case answers with one of its outcomes (verification
mostly succeeds). A caller who reaches a queue waits: answered after a wait that grows
with the hour's traffic, or hangs up when their patience runs out, or leaves a callback
request. Everything comes from one ``random.Random(seed)``: the same seed and clock give
the same calls. Nothing here writes: ``ivr.store.demo_calls`` does.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ivr.flow import actions as act
from ivr.flow import model, nodes
from ivr.flow.engine import Engine
from ivr.flow.events import Digits, Event, HungUp, Recorded, Result, Timeout
from ivr.flow.state import CallStart, CallState
from ivr.services import ports

#: The demo calls' span, ending at the clock's now.
SPAN = timedelta(days=30)
#: Relative traffic by local hour (0-23): quiet at night, busy mornings and evenings.
HOURLY = (1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 13, 11, 12, 13, 12, 11, 10, 10, 9, 7, 5, 3, 2)
#: The main menu (its keys weighted as callers press them; other menus' evenly).
MAIN_MENU = "main_menu"
MENU_WEIGHTS = {"1": 32, "2": 28, "3": 8, "4": 9, "0": 11, "8": 3, "*": 2}
#: How a verification goes.
VERIFY_WEIGHTS = {"success": 78, "failure": 18, "locked": 2, "error": 2}
#: A caller's chances at each question: hang up, say nothing, press a wrong key.
HANG_UP, SILENCE, WRONG = 0.035, 0.05, 0.05
#: Callers who answer the survey after talking to an agent (in a queue whose policy has
#: ``after_agent``), and the scores they give.
SURVEYED = 0.5
SCORES, SCORE_WEIGHTS = (5, 4, 3, 2, 1), (40, 30, 15, 8, 7)
#: The nodes that say a complaint was opened.
OPENED_COMPLAINT = frozenset({"complaint_opened", "complaint_opened_no_sms"})
#: Steps after which a simulated caller hangs up whatever happens (a safety bound).
MAX_STEPS = 80
CALLER_PREFIXES = ("+86138", "+86139", "+86137", "+1415", "+4477")


def prefix(seed: int) -> str:
    """The call ids of the demo calls of ``seed`` start with this."""
    return f"demo-{seed}-"


@dataclass(frozen=True)
class QueueVisit:
    """What happened to a caller in a queue (seconds from enqueueing)."""

    queue: str
    language: str
    enqueued_at: datetime
    answered: bool
    wait: int
    talk: int | None
    callback: str | None  # a callback request's end state (done, failed, expired), or None
    score: int | None = None  # the survey score given after the talk, if any


@dataclass(frozen=True)
class DemoComplaint:
    """A complaint the caller opened, and how far supervisors have got with it by now."""

    category: str
    opened_at: datetime
    acknowledge_by: datetime
    resolve_by: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True)
class DemoCall:
    record: ports.CallRecord
    queue: QueueVisit | None
    complaint: DemoComplaint | None = None


class Callers:
    """Simulated calls on ``flow``'s engine, ``seed`` making them repeatable."""

    def __init__(self, engine: Engine, seed: int, tz: str = "UTC") -> None:
        self.engine = engine
        self.flow = engine.flow
        self.random = random.Random(seed)
        self.zone = ZoneInfo(tz)
        self.seed = seed
        self.end: datetime | None = None  # the calls' end (the clock's now), by ``calls``

    def starts(self, count: int, end: datetime) -> list[datetime]:
        """``count`` start times over the ``SPAN`` before ``end``, by ``HOURLY``, sorted."""
        rnd, out = self.random, list[datetime]()
        while len(out) < count:
            at = end - SPAN * rnd.random()
            if rnd.random() * max(HOURLY) <= HOURLY[at.astimezone(self.zone).hour]:
                out.append(at)
        return sorted(out)

    def calls(self, count: int, end: datetime) -> list[DemoCall]:
        """``count`` calls over the ``SPAN`` before ``end``, ids ``demo-<seed>-<n>``."""
        self.end = end
        starts = self.starts(count, end)
        return [self.call(f"{prefix(self.seed)}{n}", at) for n, at in enumerate(starts)]

    def call(self, call_id: str, at: datetime) -> DemoCall:
        """One caller, from the first node to the end of the flow (or a hang-up)."""
        rnd = self.random
        number = rnd.choice(CALLER_PREFIXES) + "".join(rnd.choices("0123456789", k=8))
        language = None if rnd.random() < 0.7 else rnd.choice(self.flow.languages)
        start = CallStart(call_id, ani=number, language=language, started_at=at.timestamp())
        state, actions = self.engine.start(start)
        elapsed = 0.0
        for _ in range(MAX_STEPS):
            if state.ended or not actions:
                break
            event, seconds = self._answer(state, actions[-1])
            elapsed += seconds + 2.0 * len(actions)
            state, actions = self.engine.step(state, event)
        if not state.ended:
            state, _ = self.engine.step(state, HungUp())
        queue = None
        last = actions[-1] if actions else None
        if isinstance(last, act.Enqueue):
            queue = self._wait(last, at + timedelta(seconds=elapsed))
        talk = 0 if queue is None else queue.wait + (queue.talk or 0)
        record = self._record(start, state, at, elapsed + talk, queue)
        opened = OPENED_COMPLAINT & set(state.path)
        complaint = None
        if opened and record.ended_at is not None:
            category = state.data.get("complaint_category", "other")
            complaint = self._complaint(category, record.ended_at)
        return DemoCall(record, queue, complaint)

    # -- the caller ------------------------------------------------------------------

    def _answer(self, state: CallState, waiting: act.Action) -> tuple[Event, float]:
        rnd = self.random
        if isinstance(waiting, act.RunAction):
            return self._result(waiting), 1.5
        if isinstance(waiting, act.Record):  # a demo caller's words are not kept anywhere
            spoke = rnd.random() < 0.7
            return Recorded(waiting.name if spoke else None), rnd.uniform(5, waiting.max_seconds)
        if not isinstance(waiting, act.Gather):
            return HungUp(), 0.0
        roll = rnd.random()
        if roll < HANG_UP:
            return HungUp(), rnd.uniform(2, waiting.timeout)
        if roll < HANG_UP + SILENCE:
            return Timeout(), waiting.timeout
        node = self.flow.nodes[waiting.node]
        if roll < HANG_UP + SILENCE + WRONG:
            return Digits("7" if waiting.max_digits == 1 else "12"), rnd.uniform(2, 6)
        return Digits(self._keys(node, waiting)), rnd.uniform(2, 9)

    def _keys(self, node: model.Node, gather: act.Gather) -> str:
        rnd = self.random
        if isinstance(node, nodes.Menu | nodes.Language):
            keys = list(node.choices)
            if node.id == MAIN_MENU:
                weights = [MENU_WEIGHTS.get(k, 5) for k in keys]
            else:  # "a person" (0) less often than the menu's other keys
                weights = [3 if k == "0" else 10 for k in keys]
            return rnd.choices(keys, weights)[0]
        width = rnd.randint(gather.min_digits, gather.max_digits)
        digits = "".join(rnd.choices("0123456789", k=width))
        return digits + (gather.finish_key or "")

    def _result(self, run: act.RunAction) -> Result:
        rnd = self.random
        if run.name == model.VERIFY_ACTION:
            outcome = rnd.choices(list(VERIFY_WEIGHTS), list(VERIFY_WEIGHTS.values()))[0]
            data = {"account_number": run.args.get("account_number", "")}
            return Result(outcome, data if outcome == "success" else {})
        node = self.flow.nodes[run.node]
        outcomes = list(node.outcomes) if isinstance(node, nodes.Action) else []
        if not outcomes or rnd.random() < 0.02:
            return Result(model.ERROR_OUTCOME, {})
        # the flow lists the usual outcome first (sent, found, allowed...)
        weights = [8 * len(outcomes)] + [2] * (len(outcomes) - 1)
        return Result(rnd.choices(outcomes, weights)[0], {})

    # -- the queue -------------------------------------------------------------------

    def _wait(self, how: act.Enqueue, at: datetime) -> QueueVisit:
        rnd = self.random
        busy = HOURLY[at.astimezone(self.zone).hour] / max(HOURLY)
        wait = int(rnd.expovariate(1 / (5 + 30 * busy)))
        patience = rnd.expovariate(1 / 150)
        callback = None
        if how.callback != "never" and rnd.random() < 0.08:
            callback = rnd.choices(["done", "failed", "expired"], [75, 15, 10])[0]
            wait = int(min(wait, patience))
        answered = callback is None and wait <= patience
        talk = int(rnd.lognormvariate(math.log(200), 0.5)) if answered else None
        score = None
        if answered and how.policy.after_agent and rnd.random() < SURVEYED:
            score = rnd.choices(SCORES, SCORE_WEIGHTS)[0]
        return QueueVisit(
            how.queue, how.language, at, answered, wait if answered else int(min(wait, patience)),
            talk, callback, score,
        )  # fmt: skip

    def _complaint(self, category: str, opened: datetime) -> DemoComplaint:
        """Supervisors acknowledge most complaints in time and resolve most by the
        deadline; some are late, and the newest are still open."""
        rnd, standard = self.random, self.flow.complaints
        now = opened if self.end is None else self.end
        acknowledge_by = opened + timedelta(seconds=standard.acknowledge_within)
        resolve_by = opened + timedelta(seconds=standard.resolve_within)
        acknowledged = opened + (acknowledge_by - opened) * rnd.uniform(0.1, 1.3)
        resolved = acknowledged + (resolve_by - acknowledged) * rnd.uniform(0.2, 1.4)
        if rnd.random() < 0.1:  # forgotten: nobody has looked at it yet
            acknowledged = resolved = now + timedelta(days=1)
        return DemoComplaint(
            category, opened, acknowledge_by, resolve_by,
            acknowledged if acknowledged <= now else None,
            resolved if resolved <= now else None,
        )  # fmt: skip

    def _record(
        self,
        start: CallStart,
        state: CallState,
        at: datetime,
        seconds: float,
        queue: QueueVisit | None,
    ) -> ports.CallRecord:
        end = at + timedelta(seconds=seconds)
        return ports.CallRecord(
            call_id=start.call_id, channel="demo", caller_id=start.ani, language=state.language,
            reason=state.data.get("reason"),
            account_number=state.data.get("verified_account") or None, path=state.path,
            last_node=state.node, outcome=state.outcome, queue=queue.queue if queue else None,
            started_at=at.astimezone(UTC), ended_at=end, seen_at=end, timeouts=state.timeouts,
            invalid=state.invalid, verification=state.verification,
            handoff_node=state.handoff[0] if state.handoff else None,
            handoff=state.handoff[1] if state.handoff else None,
        )  # fmt: skip
