"""The call-flow engine: a pure step function over a loaded ``Flow``.

Theory of operation
-------------------
A call is a ``CallState`` (where it is, what it knows, how many tries it has used).
``Engine.start`` enters the flow's start node; ``Engine.step`` takes one event from the
driver. Either way the engine walks through nodes that need nothing from outside (say,
branch, hours, and language/verify nodes it can skip) until it reaches one that must wait
(menu, gather, language, survey, verify, action, record) or one that ends the flow
(queue, transfer, hangup). It returns the new state and the actions for the driver, in
order: prompts to play, data that changed, and last the thing to wait for (``Gather`` ->
answer with ``Digits`` or ``Timeout``; ``RunAction`` -> answer with ``Result``;
``Record`` -> answer with ``Recorded``) or the end
(``Enqueue``, ``Transfer``, ``Hangup``). ``HungUp`` is accepted at any time.
``Engine.divert`` takes a queued call back in at a node its queue's policy names (max
wait, nobody signed in): the walk goes on from there as after any event;
``Engine.after_agent`` takes it back in at the queue's ``after_agent`` node (the survey)
once the talk with the agent is over and the caller is still on the line.

What the reports need rides along in the state: keys not pressed in time and wrong keys
per node, how the verification went, and how the call left for a person (``handoff``:
the last node where something was decided, ``left``, when a queue or transfer node is
entered; the flow's own routing, ``routed``, when nothing was).

Termination: the loader refuses a flow with a loop that does not pass through a node with
``max_visits`` (or a verify node's bounded ``retry``), and every input node has a bounded
number of tries; so every call ends after a bounded number of events. Secure digits are
handed to the next node's use case in the same step and never stored in the state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ivr.errors import EngineError
from ivr.flow import actions as act
from ivr.flow import hours, model, nodes, survey_parts
from ivr.flow import state as st
from ivr.flow.events import Digits, Event, HungUp, Recorded, Result, Timeout
from ivr.flow.node_actions import end_actions, ended, gather_for, prompts_for, recording_name
from ivr.flow.state import ABANDONED, QUEUED, CallStart, CallState, counted, with_data

Steps = tuple[CallState, list[act.Action]]
_DIGITS = frozenset("0123456789")


class Engine:
    """Runs calls through one ``Flow``. Holds no per-call data: any number of calls
    (and threads) may share one engine."""

    def __init__(self, flow: model.Flow) -> None:
        self.flow = flow
        bounded = sum(n.max_visits or 0 for n in flow.nodes.values())
        self._max_hops = len(flow.nodes) * (2 + bounded)

    # -- the public step function ------------------------------------------------------

    def start(self, call: CallStart) -> Steps:
        """Begin a call: returns its first state and actions."""
        known = call.language in self.flow.languages
        language = call.language if known and call.language else self.flow.default_language
        data = {"ani": call.ani, "dnid": call.dnid, "call_id": call.call_id, "language": language}
        state = CallState(
            node=self.flow.start,
            language=language,
            started_at=call.started_at,
            data=data,
            language_known=known,
        )
        return self._go(state, self.flow.start, [])

    def step(self, state: CallState, event: Event) -> Steps:
        """Apply one event. After the call has left the flow, events change nothing."""
        if state.ended:
            return state, []
        if isinstance(event, HungUp):
            return replace(state, outcome=ABANDONED), []
        node = self.flow.nodes.get(state.node)
        if node is None:
            raise EngineError(f"call state names node {state.node!r}, not in {self.flow.source}")
        if isinstance(node, nodes.Input) and isinstance(event, Digits | Timeout):
            return self._answer(node, state, event)
        if isinstance(node, nodes.Verify | nodes.Action) and isinstance(event, Result):
            return self._result(node, state, event)
        if isinstance(node, nodes.Record) and isinstance(event, Recorded):
            return self._recorded(node, state, event)
        kind = type(node).__name__.lower()  # the event's keys may be a PIN: name its type only
        raise EngineError(f"node {node.id!r} ({kind}) cannot take a {type(event).__name__} event")

    def divert(self, state: CallState, node_id: str) -> Steps:
        """Take a call that left the flow for a queue back into it at ``node_id``: the
        queue's policy sent it on (max wait, nobody signed in). The node must be one the
        queue node names (``QueuePolicy.targets``), so the loader has checked it."""
        queue = self.flow.nodes.get(state.node)
        if state.outcome != QUEUED or not isinstance(queue, nodes.Queue):
            raise EngineError(f"call at {state.node!r} is not in a queue: cannot divert it")
        if node_id not in {t for _, t in queue.policy.targets()}:
            raise EngineError(f"queue node {queue.id!r} does not lead to {node_id!r}")
        return self._go(replace(state, outcome=None), node_id, [])

    def after_agent(self, state: CallState) -> Steps | None:
        """A queued call whose talk with an agent is over, the caller still on the line:
        the flow goes on at the queue's ``after_agent`` node (the survey); None when the
        queue names none (the call ends with the talk)."""
        queue = self.flow.nodes.get(state.node)
        if state.outcome != QUEUED or not isinstance(queue, nodes.Queue):
            raise EngineError(f"call at {state.node!r} is not in a queue: no after_agent")
        target = queue.policy.after_agent
        if target is None:
            return None
        return self._go(replace(state, outcome=None), target, [])

    # -- input nodes -------------------------------------------------------------------

    def _answer(self, node: nodes.Input, state: CallState, event: Digits | Timeout) -> Steps:
        keys = event.digits if isinstance(event, Digits) else ""
        if not keys:
            state = replace(state, timeouts=counted(state.timeouts, node.id))
            return self._retry(node, state, node.timeout_prompt)
        if isinstance(node, nodes.Gather):
            if node.finish_key and keys.endswith(node.finish_key):
                keys = keys[: -len(node.finish_key)]
            if not (set(keys) <= _DIGITS and node.min_digits <= len(keys) <= node.max_digits):
                return self._invalid(node, state)
            state = replace(state, left=(node.id, st.CHOSE))
            if node.secure:
                return self._go(state, node.next, [], secure={node.save_as: keys})
            state = with_data(state, {node.save_as: keys})
            return self._go(state, node.next, [])
        if isinstance(node, nodes.Survey):
            if keys not in survey_parts.SCORES:
                return self._retry(node, state, node.invalid_prompt)
            state = with_data(state, {survey_parts.SCORE: keys})
            return self._go(state, node.after, [])
        if isinstance(node, nodes.Language):
            language = node.choices.get(keys)
            if language is None:
                return self._invalid(node, state)
            return self._choose_language(node, state, language)
        assert isinstance(node, nodes.Menu)
        target = node.choices.get(keys)
        if target is None:
            return self._invalid(node, state)
        if target == model.REPEAT:
            return self._retry(node, state, None)
        return self._go(replace(state, left=(node.id, st.CHOSE)), target, [])

    def _invalid(self, node: nodes.Input, state: CallState) -> Steps:
        state = replace(state, invalid=counted(state.invalid, node.id))
        return self._retry(node, state, node.invalid_prompt)

    def _retry(self, node: nodes.Input, state: CallState, first: str | None) -> Steps:
        tries = state.tries + 1
        if tries > node.retries:
            if isinstance(node, nodes.Language):
                return self._choose_language(node, state, node.default)
            if isinstance(node, nodes.Survey):
                return self._go(state, node.next, [])  # no score: the survey is over
            assert isinstance(node, nodes.Menu | nodes.Gather)
            return self._go(replace(state, left=(node.id, st.FAILED)), node.on_failure, [])
        state = replace(state, tries=tries)
        ids = ((first,) if first else ()) + node.prompts
        return state, [self._gather(node, state, ids)]

    def _choose_language(self, node: nodes.Language, state: CallState, language: str) -> Steps:
        state = replace(state, language=language, language_known=True)
        state = with_data(state, {"language": language})
        return self._go(state, node.next, [act.SetData("language", language)])

    def _gather(self, node: nodes.Input, state: CallState, ids: tuple[str, ...]) -> act.Gather:
        return gather_for(node, self._prompts(state, ids))

    # -- use cases ---------------------------------------------------------------------

    def _result(self, node: nodes.Verify | nodes.Action, state: CallState, event: Result) -> Steps:
        state = with_data(state, event.data)
        actions: list[act.Action] = [act.SetData(k, v) for k, v in event.data.items()]
        if isinstance(node, nodes.Action):
            target = node.outcomes.get(event.outcome)
            if target is None:
                state = replace(state, left=(node.id, st.ERROR))
                return self._go(state, node.on_error, actions)
            return self._go(replace(state, left=(node.id, st.ROUTED)), target, actions)
        if event.outcome == "success":
            account = state.data.get(node.account, "")
            state = with_data(state, {"verified": "yes", "verified_account": account})
            state = replace(state, verification=st.VERIFIED, left=(node.id, st.ROUTED))
            return self._go(state, node.on_success, actions)
        if event.outcome == "locked":
            state = replace(state, verification=st.LOCKED, left=(node.id, st.LOCKED_OUT))
            return self._go(state, node.on_locked, actions)
        if event.outcome == "closed":  # the right PIN of a closed account: not verified
            state = replace(state, verification=st.CLOSED, left=(node.id, st.ROUTED))
            return self._go(state, node.on_closed or node.on_failure, actions)
        if event.outcome != "failure":
            return self._go(replace(state, left=(node.id, st.ERROR)), node.on_error, actions)
        failed = state.attempts.get(node.id, 0) + 1
        state = replace(state, attempts={**state.attempts, node.id: failed})
        if state.verification != st.VERIFIED:
            state = replace(state, verification=st.VERIFY_FAILED)
        if failed >= node.attempts:
            state = replace(state, left=(node.id, st.NOT_VERIFIED))
            return self._go(state, node.on_failure, actions)
        state = replace(state, left=(node.id, st.ROUTED))
        if node.retry_prompt:
            actions.append(act.Play(self._prompts(state, (node.retry_prompt,))))
        return self._go(state, node.retry, actions)

    def _recorded(self, node: nodes.Record, state: CallState, event: Recorded) -> Steps:
        if not event.recording_id:
            return self._go(state, node.on_failure, [])
        state = with_data(state, {node.save_as: event.recording_id})
        return self._go(state, node.next, [])

    # -- walking -----------------------------------------------------------------------

    def _go(
        self,
        state: CallState,
        target: str,
        actions: list[act.Action],
        secure: Mapping[str, str] | None = None,
    ) -> Steps:
        for _ in range(self._max_hops):
            node = self.flow.nodes[target]
            if node.max_visits is not None:
                seen = state.visits.get(node.id, 0)
                if seen >= node.max_visits and node.on_max_visits:
                    target, secure = node.on_max_visits, None
                    state = replace(state, left=(node.id, st.MAX_VISITS))
                    continue
                state = replace(state, visits={**state.visits, node.id: seen + 1})
            state = replace(state, node=node.id, tries=0, path=(*state.path, node.id))
            if isinstance(node, nodes.Queue | nodes.Transfer) and state.handoff is None:
                state = replace(state, handoff=st.handoff_of(state))
            if node.set:
                state = with_data(state, node.set)
                actions.extend(act.SetData(k, v) for k, v in node.set.items())
            following = self._enter(node, state, actions, secure or {})
            if following is None:
                return state if not node.ends else ended(node, state), actions
            target, secure = following, None
        raise EngineError(f"{self.flow.source}: a call went round without input at {target!r}")

    def _enter(
        self,
        node: model.Node,
        state: CallState,
        actions: list[act.Action],
        secure: Mapping[str, str],
    ) -> str | None:
        """Do what entering ``node`` does; return the next node, or None to stop here."""
        if isinstance(node, nodes.Say):
            actions.append(act.Play(self._prompts(state, node.prompts)))
            return node.next
        if isinstance(node, nodes.Branch):
            return node.cases.get(state.data.get(node.var, ""), node.default)
        if isinstance(node, nodes.Hours):
            return hours.route(node, state.started_at)
        if isinstance(node, nodes.Language) and state.language_known:
            return node.next
        if isinstance(node, nodes.Survey) and survey_parts.skipped(node, state.data):
            return node.next
        if isinstance(node, nodes.Record):
            prompts = self._prompts(state, node.prompts)
            actions.append(act.Record(node.id, prompts, node.max_seconds, recording_name(state)))
            return None
        if isinstance(node, nodes.Input):
            actions.append(self._gather(node, state, node.prompts))
        elif isinstance(node, nodes.Verify):
            if state.data.get("verified") == "yes":
                return node.on_success
            args = {
                "account_number": state.data.get(node.account, ""),
                "pin": secure.get(node.pin, ""),
                "ani": state.data.get("ani", ""),
                "call_id": state.data.get("call_id", ""),
                "language": state.language,
            }
            actions.append(act.RunAction(node.id, model.VERIFY_ACTION, args, frozenset({"pin"})))
        elif isinstance(node, nodes.Action):
            args = {**state.data, **secure}
            actions.append(act.RunAction(node.id, node.action, args, frozenset(secure)))
        else:
            self._finish(node, state, actions)
        return None

    def _finish(self, node: model.Node, state: CallState, actions: list[act.Action]) -> None:
        prompts = getattr(node, "prompts", ())
        if prompts:
            actions.append(act.Play(self._prompts(state, prompts)))
        actions.extend(end_actions(node, state))

    def _prompts(self, state: CallState, ids: tuple[str, ...]) -> tuple[act.Prompt, ...]:
        return prompts_for(self.flow, state, ids)
