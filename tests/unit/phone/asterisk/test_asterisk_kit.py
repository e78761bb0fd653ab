"""The Asterisk kit an administrator keeps: stable agent passwords in a secrets file, agent
phones from the hotline's agents, and fallback queues by skill and language."""

from __future__ import annotations

import argparse
import json
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr.app.asterisk_agents import phones
from ivr.app.asterisk_cli import register
from ivr.app.config import Settings
from ivr.errors import IvrError
from ivr.phone.asterisk import agent_secrets, config, pjsip_queues
from ivr.phone.asterisk.agent_secrets import MAX_BYTES, AgentSecretsError, load, plan, save
from ivr.phone.asterisk.queue_members import (
    QueueNameClash,
    asterisk_queues,
    staffing_warnings,
)
from ivr.services.agents_demo import DEMO_AGENTS

ROOT = Path(__file__).resolve().parents[4]
QUEUES = [
    config.HotlineQueue("security", 10, "security"),
    config.HotlineQueue("general", 1, "general"),
]
LANGUAGES = ("en", "zh")


def agent(name: str, skills: set[str], languages: set[str]) -> config.Agent:
    return config.Agent(name, "", skills=frozenset(skills), languages=frozenset(languages))


def counter() -> Callable[[], str]:
    made = iter(range(1, 100))
    return lambda: f"pw{next(made)}"


# --- the passwords: plan --------------------------------------------------------------------


def test_a_new_endpoint_gets_a_password_and_the_others_keep_theirs() -> None:
    kept = {"agent-alice": "old-a"}
    result = plan(kept, ["agent-alice", "agent-bob"], make=counter())
    assert result.passwords == {"agent-alice": "old-a", "agent-bob": "pw1"}
    assert (result.created, result.rotated, result.dropped) == (("agent-bob",), (), ())


def test_nothing_changes_when_nothing_is_new() -> None:
    kept = {"agent-alice": "old-a"}
    assert not plan(kept, ["agent-alice"]).changed


def test_rotating_one_endpoint_changes_only_its_password() -> None:
    kept = {"agent-alice": "old-a", "agent-bob": "old-b"}
    result = plan(kept, kept, rotate=["agent-bob"], make=counter())
    assert result.passwords == {"agent-alice": "old-a", "agent-bob": "pw1"}
    assert result.rotated == ("agent-bob",)


def test_rotating_all_changes_every_password() -> None:
    kept = {"agent-alice": "old-a", "agent-bob": "old-b"}
    result = plan(kept, kept, rotate_all=True, make=counter())
    assert set(result.passwords.values()) == {"pw1", "pw2"}


def test_rotating_an_unknown_endpoint_is_refused_by_name() -> None:
    with pytest.raises(AgentSecretsError, match="--rotate agent-zed: no such agent endpoint"):
        plan({"agent-alice": "a"}, ["agent-alice"], rotate=["agent-zed"])


def test_an_endpoint_no_longer_generated_loses_its_password() -> None:
    result = plan({"agent-alice": "a", "agent-gone": "g"}, ["agent-alice"])
    assert result.passwords == {"agent-alice": "a"}
    assert result.dropped == ("agent-gone",)


# --- the passwords: the file ----------------------------------------------------------------


def test_the_file_is_written_0600_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "kit" / "agent-secrets.json"
    save(path, {"agent-alice": "secret-a"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load(path) == {"agent-alice": "secret-a"}
    assert [p.name for p in path.parent.iterdir()] == ["agent-secrets.json"]  # no temporaries


def test_no_file_means_no_passwords_yet(tmp_path: Path) -> None:
    assert load(tmp_path / "agent-secrets.json") == {}


@pytest.mark.parametrize(
    "text, why",
    [
        ("{not json", "not JSON"),
        ('["agent-alice"]', 'no {"passwords"'),
        ('{"passwords": {"agent alice; [x]": "p"}}', "is not an endpoint and a password"),
        ('{"passwords": {"agent-alice": ""}}', "is not an endpoint and a password"),
        (" " * (MAX_BYTES + 1), "more than the"),  # a bounded read
    ],
)
def test_a_corrupt_file_is_an_error_naming_it_and_nothing_is_regenerated(
    tmp_path: Path, text: str, why: str
) -> None:
    path = tmp_path / "agent-secrets.json"
    path.write_text(text)
    path.chmod(0o600)
    with pytest.raises(AgentSecretsError, match=why) as raised:
        load(path)
    assert str(path) in str(raised.value)
    assert "Nothing was written" in str(raised.value)
    assert path.read_text() == text


def test_a_file_others_can_read_is_refused_not_tightened(tmp_path: Path) -> None:
    path = tmp_path / "agent-secrets.json"
    save(path, {"agent-alice": "secret-a"})
    path.chmod(0o644)
    with pytest.raises(AgentSecretsError, match=r"readable by others \(mode 0644\)") as raised:
        load(path)
    assert f"chmod 600 {path}" in str(raised.value)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_file_that_cannot_be_read_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "agent-secrets.json"
    path.mkdir(mode=0o700)
    with pytest.raises(AgentSecretsError, match="cannot read the agents' passwords") as raised:
        load(path)
    assert str(path) in str(raised.value)


# --- the agent phones -------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    username: str
    endpoint: str
    skills: frozenset[str]
    languages: frozenset[str]
    disabled: bool = False


def test_phones_are_the_enabled_agents_endpoints_with_their_skills() -> None:
    people = [
        Person("bob", "agent-bob", frozenset({"general"}), frozenset({"en"})),
        Person("eve", "agent-eve", frozenset({"general"}), frozenset({"en"}), disabled=True),
        Person("amy", "agent-amy", frozenset({"security"}), frozenset({"zh"})),
    ]
    got = phones(people)
    assert [p.name for p in got] == ["agent-amy", "agent-bob"]
    assert (got[0].skills, got[0].languages) == (frozenset({"security"}), frozenset({"zh"}))


def test_agents_without_the_disabled_attribute_are_all_enabled() -> None:
    assert [p.name for p in phones(DEMO_AGENTS)] == [
        "agent-alice",
        "agent-bob",
        "agent-chen",
        "agent-sam",
    ]


def test_an_endpoint_that_is_no_sip_name_is_refused_with_the_agents_name() -> None:
    bad = Person("mallory", "agent x\n[global]", frozenset({"general"}), frozenset({"en"}))
    with pytest.raises(IvrError, match="agent mallory: the endpoint"):
        phones([bad])


# --- the fallback queues ----------------------------------------------------------------------


def test_members_have_the_skill_and_a_language_queue_where_it_differs() -> None:
    agents = [
        agent("agent-en", {"general", "security"}, {"en"}),
        agent("agent-zh", {"general"}, {"zh"}),
        agent("agent-both", {"security"}, {"en", "zh"}),
    ]
    queues = {q.name: q.members for q in asterisk_queues(QUEUES, agents, LANGUAGES)}
    assert queues == {
        "hotline-security": ("agent-en", "agent-both"),
        "hotline-security-zh": ("agent-both",),
        "hotline-general": ("agent-en", "agent-zh"),
        "hotline-general-en": ("agent-en",),
        "hotline-general-zh": ("agent-zh",),
    }  # no hotline-security-en: everyone of hotline-security speaks English


def test_a_language_nobody_speaks_has_no_queue_and_is_warned_about() -> None:
    agents = [agent("agent-en", {"general", "security"}, {"en"})]
    names = [q.name for q in asterisk_queues(QUEUES, agents, LANGUAGES)]
    assert names == ["hotline-security", "hotline-general"]  # zh callers reach these
    warnings = staffing_warnings(QUEUES, agents, LANGUAGES)
    assert "queue general: no agent speaks zh; those callers reach hotline-general" in " ".join(
        warnings
    )


def test_an_agent_with_no_skill_of_any_queue_is_in_none_and_warned_about() -> None:
    agents = [agent("agent-en", {"general", "security"}, {"en"}), agent("agent-x", {"x"}, {"en"})]
    text = pjsip_queues.queues_conf(config.Options(queues=QUEUES, agents=agents))
    assert "agent-x" not in text
    assert staffing_warnings(QUEUES, agents, ("en",)) == [
        "agent-x has no skill of any queue: it is in no fallback queue"
    ]


def test_a_queue_nobody_can_take_is_empty_and_warned_about() -> None:
    agents = [agent("agent-en", {"general"}, {"en"})]
    security = asterisk_queues(QUEUES, agents, ("en",))[0]
    assert (security.name, security.members) == ("hotline-security", ())
    assert (
        "queue security: no agent has the skill security"
        in staffing_warnings(QUEUES, agents, ("en",))[0]
    )


def test_phones_without_skills_take_every_queue_in_every_language() -> None:
    agents = [config.Agent("agent-sandbox", "pw")]  # the sandbox's phones
    queues = asterisk_queues(QUEUES, agents, LANGUAGES)
    assert [(q.name, q.members) for q in queues] == [
        ("hotline-security", ("agent-sandbox",)),
        ("hotline-general", ("agent-sandbox",)),
    ]


def test_a_flow_queue_named_like_a_language_queue_is_refused() -> None:
    queues = [*QUEUES, config.HotlineQueue("general-zh", 1, "general")]
    agents = [agent("a", {"general"}, {"en"}), agent("b", {"general"}, {"zh"})]
    with pytest.raises(QueueNameClash, match="hotline-general-zh would be generated twice"):
        asterisk_queues(queues, agents, LANGUAGES)


# --- ivr asterisk-config ----------------------------------------------------------------------


def run_config(out: Path, *more: str) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["asterisk-config", "--out", str(out), "--demo-agents", *more])
    return int(args.run(args, Settings(ROOT / "callflows.yaml", "sqlite://", "WARNING")))


def test_passwords_survive_a_second_run_and_are_not_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "kit"
    assert run_config(out) == 0
    first = json.loads((out / "agent-secrets.json").read_text())["passwords"]
    pjsip = (out / "pjsip.conf").read_text()
    assert run_config(out) == 0
    assert json.loads((out / "agent-secrets.json").read_text())["passwords"] == first
    assert (out / "pjsip.conf").read_text() == pjsip
    printed = capsys.readouterr().out
    assert not any(password in printed or password in pjsip for password in first.values())
    assert "agent phones (demo): agent-alice, agent-bob, agent-chen, agent-sam" in printed


def test_rotate_changes_one_phone_and_show_passwords_prints_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "kit"
    run_config(out)
    before = agent_secrets.load(out / "agent-secrets.json")
    capsys.readouterr()
    assert run_config(out, "--rotate", "agent-bob", "--show-passwords") == 0
    after = agent_secrets.load(out / "agent-secrets.json")
    assert {n for n in before if before[n] != after[n]} == {"agent-bob"}
    printed = capsys.readouterr().out
    assert "passwords rotated: agent-bob" in printed
    assert f"agent-bob: password {after['agent-bob']}" in printed


def test_a_corrupt_secrets_file_stops_the_run_before_any_file_is_written(tmp_path: Path) -> None:
    out = tmp_path / "kit"
    out.mkdir()
    secrets = out / "agent-secrets.json"
    secrets.write_text("{broken")
    secrets.chmod(0o600)
    with pytest.raises(AgentSecretsError, match=str(secrets)):
        run_config(out)
    assert sorted(p.name for p in out.iterdir()) == ["agent-secrets.json"]


def test_the_demo_queues_conf_holds_members_by_skill_and_language(tmp_path: Path) -> None:
    out = tmp_path / "kit"
    run_config(out)
    queues = (out / "queues.conf").read_text()
    sections = {chunk.split("]", 1)[0]: chunk for chunk in queues.split("\n[")[1:]}  # name -> text
    assert set(sections) == {
        "hotline-security",
        "hotline-security-zh",
        "hotline-payments",
        "hotline-closure",
        "hotline-closure-zh",
        "hotline-general",
        "hotline-general-zh",
    }
    assert "PJSIP/agent-bob," not in sections["hotline-general-zh"]  # Bob speaks English only
    assert "PJSIP/agent-bob," not in sections["hotline-payments"]  # and has no payments skill
