"""The demo agents ``ivr seed --demo`` creates (README lists them). Demo passwords only:
a real deployment adds its own agents."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.services.contact_agents import AGENT, SUPERVISOR


@dataclass(frozen=True)
class DemoAgent:
    username: str
    password: str
    name: str
    role: str
    skills: frozenset[str]
    languages: frozenset[str]
    endpoint: str


ALL_SKILLS = frozenset({"general", "payments", "closure", "security"})

DEMO_AGENTS = (
    DemoAgent(
        "alice",
        "alice-demo",
        "Alice Martin",
        AGENT,
        frozenset({"general", "payments"}),
        frozenset({"en", "zh"}),
        "agent-alice",
    ),
    DemoAgent(
        "bob",
        "bob-demo",
        "Bob Okafor",
        AGENT,
        frozenset({"general", "closure", "security"}),
        frozenset({"en"}),
        "agent-bob",
    ),
    DemoAgent(
        "chen",
        "chen-demo",
        "Chen Jing",
        AGENT,
        frozenset({"general", "payments", "security"}),
        frozenset({"zh", "en"}),
        "agent-chen",
    ),
    DemoAgent(
        "sam",
        "sam-demo",
        "Sam Rivera",
        SUPERVISOR,
        ALL_SKILLS,
        frozenset({"en", "zh"}),
        "agent-sam",
    ),
)
