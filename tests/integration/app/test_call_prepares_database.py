"""``ivr call`` on a fresh checkout: the embedded SQLite database is made ready by the call
itself (schema upgraded, demo accounts seeded when there are none), as ``make call`` does;
a PostgreSQL database is never migrated on the side, and an unusable folder for the SQLite
file is a one-line error."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from integration.conftest import hotline_settings
from integration.support import LI_WEI, OPEN_UTC, StoppedClock
from ivr.app import cli, demo_database
from ivr.app.bootstrap import Components, bootstrap
from ivr.store import schema
from ivr.store.db import connect

#: The backend of the tests that take a database URL fixture.
ON_SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
ON_POSTGRESQL = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


def call(capsys: pytest.CaptureFixture[str], keys: str = "1 0") -> tuple[int, str, str]:
    code = cli.main(["call", "--keys", keys, "--json"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def sql(url: str, statement: str, **params: str) -> object:
    """Run one statement on ``url`` (committed); its first column's first row, if any."""
    engine = connect(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.scalar() if result.returns_rows else None
    finally:
        engine.dispose()


def tables(url: str) -> list[str]:
    engine = connect(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_fresh_checkout_calls_at_once_on_the_default_sqlite_file(
    ivr_env: list[Components],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)  # no IVR_DATABASE_URL: var/ivr.sqlite3 here

    number, pin, phone = LI_WEI
    code = cli.main(["call", "--keys", f"1 2 {number}# {pin} 9", "--ani", phone, "--json"])
    captured = capsys.readouterr()

    assert code == 0, captured.err
    database = tmp_path / "var" / "ivr.sqlite3"
    assert captured.err.splitlines() == [
        f"ivr call: prepared the database sqlite:///{database}: "
        f"schema empty -> {schema.HEAD}, 5 demo accounts seeded"
    ]
    assert '"verified_account": "' + number + '"' in captured.out
    assert pin not in captured.err

    # The next call finds it ready and says nothing about it.
    code, out, err = call(capsys)
    assert (code, err) == (0, "") and '"ended_at_node": "agent"' in out


@ON_SQLITE
def test_an_upgraded_sqlite_database_without_accounts_is_seeded_not_upgraded_again(
    ivr_env: list[Components],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    upgraded_url: str,
) -> None:
    monkeypatch.setenv("IVR_DATABASE_URL", upgraded_url)

    code, out, err = call(capsys)

    assert code == 0, err
    assert err == f"ivr call: prepared the database {upgraded_url}: 5 demo accounts seeded\n"
    assert '"ended_at_node": "agent"' in out


@ON_SQLITE
def test_accounts_of_ones_own_are_left_alone(
    ivr_env: list[Components],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    seeded_url: str,
) -> None:
    monkeypatch.setenv("IVR_DATABASE_URL", seeded_url)
    sql(seeded_url, "DELETE FROM transactions")
    sql(seeded_url, "DELETE FROM accounts WHERE number != (SELECT min(number) FROM accounts)")

    code, _, err = call(capsys)

    assert (code, err) == (0, "")  # not a word, and the deleted demo accounts not back
    assert sql(seeded_url, "SELECT count(*) FROM accounts") == 1


@ON_SQLITE
def test_an_sqlite_schema_newer_than_this_code_is_not_touched(
    ivr_env: list[Components],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    upgraded_url: str,
) -> None:
    monkeypatch.setenv("IVR_DATABASE_URL", upgraded_url)
    sql(upgraded_url, "UPDATE alembic_version SET version_num = '9999'")

    code, out, err = call(capsys)

    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert "is at schema revision 9999" in line and line.endswith("upgrade this program")


@ON_POSTGRESQL
def test_an_empty_postgresql_database_is_not_migrated_on_the_side(
    ivr_env: list[Components],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
) -> None:
    monkeypatch.setenv("IVR_DATABASE_URL", database_url)

    code, out, err = call(capsys)

    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith("ivr call: the database postgresql+psycopg://")
    assert "has no hotline tables yet" in line and line.endswith("run `ivr db upgrade`")
    assert tables(database_url) == []  # the call made no schema


def test_a_var_folder_that_cannot_be_made_is_a_one_line_error(
    ivr_env: list[Components],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var").write_text("a file where the folder should be\n")

    code, out, err = call(capsys)

    assert (code, out) == (1, "")
    assert err == (
        f"ivr call: cannot make the database's folder {tmp_path / 'var'} (File exists): "
        "make it a writable folder or set IVR_DATABASE_URL\n"
    )


def test_the_sandbox_prepares_any_database_it_is_given_and_again_changes_nothing(
    database_url: str,
) -> None:
    """``prepare`` as the Asterisk sandbox uses it: on PostgreSQL too, when asked."""
    first = bootstrap(hotline_settings(database_url), StoppedClock(OPEN_UTC))
    again = bootstrap(hotline_settings(database_url), StoppedClock(OPEN_UTC))
    try:
        made = demo_database.prepare(first)
        kept = demo_database.prepare(again)
    finally:
        first.database.dispose()
        again.database.dispose()

    assert (made.before, made.after, made.changed) == (None, schema.HEAD, True)
    assert made.seeded is not None and made.seeded.created == 5
    assert (kept.before, kept.after) == (schema.HEAD, schema.HEAD)
    assert kept.seeded is not None and (kept.seeded.created, kept.seeded.unchanged) == (0, 5)
    assert not kept.changed and kept.said().endswith(": nothing to do")


def test_a_folder_that_cannot_be_written_is_a_one_line_error(
    ivr_env: list[Components], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # /proc/self is there and nobody may write in it, root included (a chmod'ed folder
    # would still be writable to root).
    monkeypatch.setenv("IVR_DATABASE_URL", "sqlite:////proc/self/ivr.sqlite3")

    code, out, err = call(capsys)

    assert (code, out) == (1, "")
    assert err == (
        "ivr call: the database's folder /proc/self is not writable: "
        "make it a writable folder or set IVR_DATABASE_URL\n"
    )
