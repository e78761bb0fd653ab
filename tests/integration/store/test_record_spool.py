"""The call-record spool on a real folder: one file a call holding its newest version,
readable by its owner only, bounded; a claimed record is either forgotten (written to the
database) or put back, and never hides a newer version written meanwhile."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from integration.support import FLOW_PATH, LI_WEI, OPEN_UTC
from ivr.app.config import Settings
from ivr.errors import IvrError
from ivr.services import ports
from ivr.store.record_spool import FileRecordSpool, SpoolFull


def record(
    call_id: str = "c-1", node: str = "main_menu", outcome: str | None = None
) -> ports.CallRecord:
    return ports.CallRecord(
        call_id=call_id, channel="agi", caller_id=LI_WEI[2], language="zh",
        reason="payment_failure", account_number=LI_WEI[0], path=("choose_language", node),
        last_node=node, outcome=outcome, queue=None, started_at=OPEN_UTC,
        ended_at=OPEN_UTC + timedelta(seconds=9) if outcome else None,
        seen_at=OPEN_UTC + timedelta(seconds=9),
    )  # fmt: skip


def files(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_a_call_keeps_one_file_with_its_newest_version_for_its_owner_only(
    tmp_path: Path,
) -> None:
    spool = FileRecordSpool(tmp_path / "spool")
    spool.keep(record(node="choose_language"))
    spool.keep(record(outcome="abandoned"))

    [name] = files(spool.folder)
    assert name.endswith(".json") and "c-1" not in name  # named by a hash of the call id
    assert stat.S_IMODE(os.stat(spool.folder / name).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(spool.folder).st_mode) == 0o700
    data = json.loads((spool.folder / name).read_text(encoding="utf-8"))
    assert (data["outcome"], data["last_node"], data["account_number"]) == (
        "abandoned", "main_menu", LI_WEI[0],
    )  # fmt: skip
    assert LI_WEI[1] not in (spool.folder / name).read_text()  # no PIN, ever
    [(token, back)] = spool.claim(10)
    assert back == record(outcome="abandoned")
    spool.forget(token)
    assert files(spool.folder) == []


def test_a_record_put_back_never_hides_a_newer_one(tmp_path: Path) -> None:
    spool = FileRecordSpool(tmp_path)
    spool.keep(record(node="choose_language"))
    [(token, old)] = spool.claim(10)
    spool.keep(record(outcome="solved"))  # the call wrote again meanwhile

    spool.release(token)  # the replay of the old version failed

    [(_, kept)] = spool.claim(10)
    assert kept.outcome == "solved" and len(files(tmp_path)) == 1


def test_a_record_a_dead_process_claimed_is_claimed_again(tmp_path: Path) -> None:
    spool = FileRecordSpool(tmp_path)
    spool.keep(record())
    [(token, _)] = spool.claim(10)
    os.rename(tmp_path / token, tmp_path / token.replace(f".{os.getpid()}-", f".{os.getppid()}-"))
    assert spool.claim(10) == []  # claimed by another live process: left to it

    [name] = files(tmp_path)
    os.rename(tmp_path / name, tmp_path / name.replace(f".{os.getppid()}-", ".999999999-"))
    assert [r for _, r in spool.claim(10)] == [record()]  # its claimer died: claimed again


def test_the_spool_is_bounded_but_a_known_call_still_writes(tmp_path: Path) -> None:
    spool = FileRecordSpool(tmp_path, max_records=2)
    spool.keep(record("a"))
    spool.keep(record("b"))

    with pytest.raises(SpoolFull, match="is full"):
        spool.keep(record("c"))
    spool.keep(replace(record("a"), outcome="solved"))  # replaces its own file

    assert len(files(tmp_path)) == 2


def test_a_damaged_file_is_set_aside_and_the_rest_replayed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = FileRecordSpool(tmp_path)
    spool.keep(record("good"))
    (tmp_path / "0000.json").write_text("{not json", encoding="utf-8")

    claimed = spool.claim(10)

    assert [r.call_id for _, r in claimed] == ["good"]
    assert any(name.endswith(".bad") for name in files(tmp_path))
    assert "not a call record" in caplog.text


def test_each_database_has_its_own_spool_folder(tmp_path: Path) -> None:
    one = Settings(FLOW_PATH, "sqlite:////tmp/one.sqlite3", "WARNING", spool_dir=tmp_path)
    two = Settings(FLOW_PATH, "postgresql+psycopg://h/two", "WARNING", spool_dir=tmp_path)
    assert one.record_spool().parent == two.record_spool().parent == tmp_path
    assert one.record_spool() != two.record_spool()
    default = Settings(FLOW_PATH, "sqlite:////tmp/one.sqlite3", "WARNING")
    assert default.record_spool().parent == FLOW_PATH.parent / "var" / "spool"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("IVR_RECORD_LEASE", "0", "IVR_RECORD_LEASE must be at least 1"),
        ("IVR_RECORD_LEASE", "soon", "IVR_RECORD_LEASE must be a whole number"),
        ("IVR_DB_BUSY_TIMEOUT", "-1", "IVR_DB_BUSY_TIMEOUT must not be negative"),
    ],
)
def test_bad_record_settings_are_refused_by_name(name: str, value: str, says: str) -> None:
    with pytest.raises(IvrError, match=says):
        Settings.from_env({name: value})


def test_the_record_settings_are_read(tmp_path: Path) -> None:
    env = {"IVR_RECORD_LEASE": "90", "IVR_DB_BUSY_TIMEOUT": "2", "IVR_SPOOL_DIR": str(tmp_path)}
    settings = Settings.from_env(env)
    assert (settings.record_lease, settings.db_busy_timeout, settings.spool_dir) == (
        90, 2, tmp_path,
    )  # fmt: skip
