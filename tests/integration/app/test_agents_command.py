"""``ivr agents`` on a real database (both backends), through ``main()`` with its output
captured: the table, a new agent with a generated password printed once or one read from
standard input, edits, disabling and enabling, a new password; and the refusals, one line
each with the exit status: bad input (2), a taken username, the last supervisor, an
unknown agent (1), a database that is away (1)."""

from __future__ import annotations

import getpass
import io
from collections.abc import Iterator
from typing import Any

import pytest
from outage import Outage

from integration.support import Db
from ivr.app import cli_agents
from ivr.app.bootstrap import Components, bootstrap
from ivr.app.cli import main


@pytest.fixture
def agents_env(
    ivr_env: list[Components], seeded_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[Components]]:
    """``ivr agents`` on this test's seeded database; the hotlines it builds are closed."""
    monkeypatch.setenv("IVR_DATABASE_URL", seeded_url)
    built: list[Components] = []

    def recording(*args: Any, **kwargs: Any) -> Components:
        built.append(bootstrap(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(cli_agents, "bootstrap", recording)
    yield built
    for hotline in built:
        database = hotline.__dict__.get("database")
        if database is not None:
            database.dispose()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["agents", *argv])
    out, err = capsys.readouterr()
    return code, out, err


ADD = ["add", "ivy", "--name", "Ivy Chan", "--skills", "general,payments", "--languages",
       "en,zh", "--endpoint", "agent-ivy"]  # fmt: skip


def test_the_list_is_a_table_of_every_agent(
    agents_env: list[Components], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "list")
    assert (code, err) == (0, "")
    assert "Agents" in out and "alice" in out and "Sam Rivera" in out and "supervisor" in out


def test_a_new_agent_gets_a_generated_password_printed_once_and_the_actor_is_audited(
    agents_env: list[Components], capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    code, out, err = run(capsys, *ADD)
    assert (code, err) == (0, "")
    assert out.startswith("agent ivy created (id ")
    password = out.split("password (shown once): ")[1].strip()
    hotline = agents_env[-1]
    assert hotline.contact_center.authenticate("ivy", password) is not None
    row = db.one("audit_log", action="agent_created")
    assert row["actor"] == f"cli:{getpass.getuser()}"
    assert password not in db.dump()


def test_a_password_is_read_from_standard_input_and_not_printed(
    agents_env: list[Components],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a password from stdin\n"))
    code, out, _ = run(capsys, *ADD, "--password-stdin")
    assert code == 0 and "password" not in out and "stdin" not in out
    assert agents_env[-1].contact_center.authenticate("ivy", "a password from stdin") is not None
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, out, err = run(capsys, "reset-password", "ivy", "--password-stdin")
    assert code == 2 and out == ""
    assert err == "ivr agents reset-password: password: 12 to 256 characters\n"
    endless = io.StringIO("x" * 10_000_000)  # no newline: the read stops at the bound
    monkeypatch.setattr("sys.stdin", endless)
    code, out, err = run(capsys, "reset-password", "ivy", "--password-stdin")
    assert (code, out) == (2, "") and "12 to 256 characters" in err
    assert endless.tell() < 1000


def test_edit_disable_enable_and_reset_by_username(
    agents_env: list[Components], capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    assert run(capsys, "edit", "bob", "--skills", "security", "--role", "agent")[1] == (
        "agent bob saved\n"
    )
    assert run(capsys, "disable", "bob")[1] == "agent bob disabled\n"
    assert db.one("agents", username="bob")["disabled_at"] is not None
    assert run(capsys, "enable", "bob")[1] == "agent bob enabled\n"
    code, out, _ = run(capsys, "reset-password", "2")
    assert code == 0 and "new password set" in out and "password (shown once): " in out
    actions = [r["action"] for r in db.rows("audit_log") if r["action"].startswith("agent_")]
    assert actions == ["agent_edited", "agent_disabled", "agent_enabled", "agent_password_reset"]


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["add", "alice", *ADD[2:]], 1, "the username 'alice' is taken"),
        (
            [*ADD[:4], "--skills", "refunds", *ADD[6:]],
            2,
            "skills: unknown skill 'refunds' (one of closure, general, payments, security)",
        ),
        (["disable", "sam"], 1, "Sam Rivera is the last enabled supervisor: not disabled"),
        (["enable", "nobody"], 1, "no agent 'nobody'"),
        (
            ["edit", "bob", "--endpoint", "bad endpoint!"],
            2,
            "endpoint: a PJSIP name of 1 to 40 letters, digits, '.', '_' or '-'",
        ),
    ],
)
def test_refusals_are_one_line_with_an_exit_status(
    agents_env: list[Components],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    says: str,
) -> None:
    got, out, err = run(capsys, *argv)
    assert (got, out) == (code, "")
    assert err == f"ivr agents {argv[0]}: {says}\n"


def test_a_database_that_is_away_is_one_line(
    agents_env: list[Components],
    capsys: pytest.CaptureFixture[str],
    outage: Outage,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IVR_DATABASE_URL", outage.url)
    monkeypatch.setenv("IVR_DB_BUSY_TIMEOUT", "1")  # SQLite's lock: not 30 s of waiting
    outage.cut()
    try:
        code, out, err = run(capsys, *ADD)
    finally:
        outage.restore()
    assert (code, out) == (1, "")
    assert err.startswith("ivr agents: database ") and err.count("\n") == 1
    assert "Traceback" not in err
