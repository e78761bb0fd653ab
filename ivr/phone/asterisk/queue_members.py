"""Who is in which fallback queue of ``queues.conf`` (pure: queues and agents in, queues out).

The fallback queues are ``app_queue``'s, used only when the controller cannot hold the
caller itself (docs/asterisk.md). A member must be able to take the call as the controller
would have it: the queue's skill, and the caller's language. An Asterisk queue cannot
filter its members by the caller's language, so a flow queue ``Q`` becomes:

- ``hotline-Q``: every agent with Q's skill, whatever they speak (the controller's own
  ``Queue(hotline-${IVR_QUEUE})`` name, and the queue a caller reaches when nobody with
  the skill speaks their language: someone answers rather than nobody);
- ``hotline-Q-L`` for each flow language L where it is needed: the agents with the skill
  who speak L, when that is not everyone of ``hotline-Q`` and not nobody.

The dialplan's ``[hotline-queue]`` picks ``hotline-Q-L`` when it exists, else ``hotline-Q``,
and the general queue's when that has no members at all (docs/asterisk.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ivr.errors import IvrError
from ivr.phone.asterisk.config import Agent, HotlineQueue, queue_name


class QueueNameClash(IvrError):
    """Two of the generated queues would have the same name."""


@dataclass(frozen=True)
class AsteriskQueue:
    """One section of ``queues.conf``: ``language`` None for the flow queue's own."""

    name: str
    flow_queue: str
    language: str | None
    weight: int
    members: tuple[str, ...]


def takes(agent: Agent, queue: HotlineQueue, language: str | None = None) -> bool:
    """True if ``agent`` has the queue's skill and (when given) speaks ``language``."""
    skilled = queue.skill is None or agent.skills is None or queue.skill in agent.skills
    speaks = language is None or agent.languages is None or language in agent.languages
    return skilled and speaks


def asterisk_queues(
    queues: Sequence[HotlineQueue], agents: Sequence[Agent], languages: Sequence[str]
) -> list[AsteriskQueue]:
    """Every queue of ``queues.conf``, each flow queue followed by its language queues."""
    out: list[AsteriskQueue] = []
    for queue in queues:
        weight = max(queue.priority, 0)
        everyone = tuple(agent.name for agent in agents if takes(agent, queue))
        out.append(AsteriskQueue(queue_name(queue.name), queue.name, None, weight, everyone))
        for language in languages:
            speakers = tuple(a.name for a in agents if takes(a, queue, language))
            if speakers and speakers != everyone:
                name = queue_name(queue.name, language)
                out.append(AsteriskQueue(name, queue.name, language, weight, speakers))
    names = [queue.name for queue in out]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise QueueNameClash(
            f"the Asterisk queue {', '.join(clashes)} would be generated twice: a flow queue's "
            "name ends in one of the flow's languages (rename the queue)"
        )
    return out


def staffing_warnings(
    queues: Sequence[HotlineQueue], agents: Sequence[Agent], languages: Sequence[str]
) -> list[str]:
    """What an administrator should know: agents in no queue, queues nobody takes, and
    languages that no agent of a queue speaks (those callers reach ``hotline-Q``)."""
    warnings = [
        f"{agent.name} has no skill of any queue: it is in no fallback queue"
        for agent in agents
        if not any(takes(agent, queue) for queue in queues)
    ]
    for queue in queues:
        skilled = [agent for agent in agents if takes(agent, queue)]
        if not skilled:
            warnings.append(
                f"queue {queue.name}: no agent has the skill {queue.skill}; its callers "
                "reach the general queue when the controller is down"
            )
            continue
        for language in languages:
            if not any(takes(agent, queue, language) for agent in skilled):
                warnings.append(
                    f"queue {queue.name}: no agent speaks {language}; those callers reach "
                    f"{queue_name(queue.name)} when the controller is down"
                )
    return warnings
