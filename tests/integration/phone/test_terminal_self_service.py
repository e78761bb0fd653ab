"""The terminal phone (``ivr call``) on issue 13's self-service and account-status
branches, as a user sees it: the real command's lines, on the seeded demo database
(SQLite; test_self_service_flow.py walks them on PostgreSQL too)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from integration.support import CHEN_JIE, OMAR, OPEN, ROOT, ZHANG_MIN, Db
from ivr.app import cli

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture(autouse=True)
def hotline_env(seeded_env: str) -> str:
    return seeded_env


def lines(capsys: pytest.CaptureFixture[str], keys: str, ani: str) -> list[str]:
    """What ``ivr call --keys KEYS`` prints, in-process, line by line."""
    code = cli.main(["call", "--keys", keys, "--ani", ani, "--at", OPEN])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out.splitlines()


def test_the_command_reads_the_last_three_transactions() -> None:
    number, pin, phone = OMAR
    # the environment names this test's database (``seeded_env``)
    done = subprocess.run(
        [sys.executable, "-m", "ivr.app.cli", "call", "--keys", f"1 6 {number}# {pin} 9",
         "--ani", phone, "--at", OPEN],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    spoken = [line.removeprefix("IVR  ") for line in done.stdout.splitlines()]
    start = spoken.index("Here are your last three transactions, most recent first.")
    assert spoken[start + 1 : start + 8] == [
        "On November 19, 23.50 dollars at Corner Cafe.",
        "That one is still being processed.",
        "Before that, on November 18, 125.00 dollars at City Rail.",
        "That one failed.",
        "And on November 17, 60.00 dollars at Book Nook.",
        "That one was refunded.",
        "Press 1 to hear them again, or 0 for our payments team. If you're all set, press 9.",
    ]
    assert pin not in done.stdout
    assert "END  hung up (solved)" in done.stdout


def test_hearing_them_again_and_asking_for_the_payments_team(
    capsys: pytest.CaptureFixture[str],
) -> None:
    number, pin, phone = OMAR
    out = lines(capsys, f"1 6 {number}# {pin} 1 0", phone)

    assert out.count("IVR  Here are your last three transactions, most recent first.") == 2
    assert any(line.startswith("END") and "payments" in line for line in out), out[-3:]


def test_a_frozen_account_hears_why_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    number, pin, phone = CHEN_JIE
    out = lines(capsys, f"2 2 {number}# {pin}", phone)

    assert (
        "IVR  为了保护您的资金安全，您的账户目前已被冻结，无法通过自助语音办理。"
        "接下来由安全专员为您服务。"
    ) in out
    assert any(line.startswith("END") and "security" in line for line in out), out[-3:]


def test_a_closed_account_hears_it_is_closed(capsys: pytest.CaptureFixture[str], db: Db) -> None:
    number, pin, phone = ZHANG_MIN
    db.execute("UPDATE accounts SET status = 'closed' WHERE number = :n", n=number)

    out = lines(capsys, f"1 6 {number}# {pin}", phone)

    assert any("This account is closed" in line for line in out)
    assert not any("don't match" in line for line in out)
    assert any(line.startswith("END") and "closure" in line for line in out), out[-3:]
