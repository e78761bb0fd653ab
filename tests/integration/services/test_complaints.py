"""Complaints on the real store, SQLite and PostgreSQL: the caller's use cases
(``open_complaint``, ``complaint_status``) as a flow runs them, the supervisors' desk, and
the report's figures (``complaint_counts``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from outage import Outage
from sqlalchemy.orm import Session

from integration.support import EMMA, FLOW_PATH, LI_WEI, Db, StoppedClock
from ivr.app.bootstrap import Components, bootstrap
from ivr.app.config import Settings
from ivr.flow.actions import RunAction
from ivr.flow.events import Result
from ivr.services.complaint_desk import ComplaintRefused
from ivr.services.insight import Period
from ivr.store.complaint_queries import complaint_counts

DAY = timedelta(days=1)


def utc(value: datetime) -> datetime:
    """A time read with plain SQL: SQLite keeps no offset, PostgreSQL may give another."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def run(hotline: Components, name: str, **args: str) -> Result:
    return hotline.use_cases.run(RunAction(f"test_{name}", name, args))


def verified(who: tuple[str, str, str], **more: str) -> dict[str, str]:
    number, _, _ = who
    return {"verified": "yes", "verified_account": number, "call_id": "c-1", **more}


def open_one(hotline: Components, who: tuple[str, str, str] = EMMA, **more: str) -> Result:
    args = verified(who, complaint_category="fees", ani="+15550001111", language="en")
    return run(hotline, "open_complaint", **{**args, **more})


def test_a_complaint_gets_an_eight_digit_reference_and_the_flows_deadlines(
    hotline: Components, clock: StoppedClock, db: Db
) -> None:
    result = open_one(hotline)

    assert result.outcome == "opened"
    reference = result.data["complaint_reference"]
    assert re.fullmatch(r"\d{8}", reference)
    row = db.one("complaints", reference=reference)
    now = clock.now()
    assert (row["account_number"], row["category"], row["state"]) == ("10000002", "fees", "open")
    assert (row["caller"], row["call_id"], row["recording_id"]) == ("+15550001111", "c-1", None)
    sip = open_one(hotline, ani="sip:+8613800138001@carrier.example")
    assert db.one("complaints", reference=sip.data["complaint_reference"])["caller"] == (
        "+8613800138001"
    )  # the number in a SIP caller id
    assert utc(row["created_at"]) == now
    assert utc(row["acknowledge_by"]) == now + DAY  # complaints: acknowledge_within: 24h
    assert utc(row["resolve_by"]) == now + 7 * DAY  # resolve_within: 7d
    [event] = db.rows("complaint_events", complaint_id=row["id"])
    assert (event["actor"], event["action"], event["note"]) == ("ivr", "opened", "fees")
    assert db.rows("audit_log", action="complaint_opened")[0]["detail"]["reference"] == reference


def test_the_reference_is_texted_in_the_callers_language_with_no_secret(
    hotline: Components, clock: StoppedClock, db: Db
) -> None:
    result = open_one(hotline, LI_WEI, language="zh")

    [sms] = db.rows("sms_outbox")
    reference = result.data["complaint_reference"]
    assert sms["to"] == LI_WEI[2] and sms["status"] == "queued"
    assert reference in sms["body"] and "投诉编号" in sms["body"]
    assert "。" in sms["body"] and "," not in sms["body"]  # full-width punctuation
    assert LI_WEI[1] not in sms["body"]  # never the PIN
    resolve = (clock.now() + 7 * DAY).astimezone(ZoneInfo(hotline.flow.complaints.timezone))
    assert f"{resolve.month}月{resolve.day}日" in sms["body"]
    assert result.data["resolve_date"] == f"{resolve.month}月{resolve.day}日"


def test_a_recorded_message_is_kept_with_the_complaint(hotline: Components, db: Db) -> None:
    result = open_one(hotline, complaint_recording="rec-2030-0042")
    row = db.one("complaints", reference=result.data["complaint_reference"])
    assert row["recording_id"] == "rec-2030-0042"


def test_an_account_without_a_phone_gets_its_reference_said_not_texted(
    hotline: Components, db: Db
) -> None:
    db.execute("UPDATE accounts SET phone = '' WHERE number = :n", n=EMMA[0])
    result = open_one(hotline)
    assert result.outcome == "opened_no_phone"
    assert db.count("complaints") == 1 and db.count("sms_outbox") == 0


@pytest.mark.parametrize(
    "args",
    [
        {"complaint_category": "fees"},  # not verified
        {"verified": "no", "verified_account": "10000002", "complaint_category": "fees"},
        {"verified": "yes", "verified_account": "10000002", "complaint_category": "weather"},
    ],
    ids=["no-verification", "verified-no", "unknown-category"],
)
def test_a_caller_not_verified_or_a_bad_category_is_refused_and_nothing_is_written(
    hotline: Components, db: Db, args: dict[str, str]
) -> None:
    assert run(hotline, "open_complaint", **args).outcome == "error"
    assert run(hotline, "complaint_status", **args).outcome in ("error", "none")
    assert db.count("complaints") == 0 and db.count("sms_outbox") == 0


def test_status_is_the_newest_complaint_not_resolved(
    hotline: Components, clock: StoppedClock, db: Db
) -> None:
    assert run(hotline, "complaint_status", **verified(EMMA, language="en")).outcome == "none"
    first = open_one(hotline).data["complaint_reference"]
    clock.advance(hours=1)
    second = open_one(hotline).data["complaint_reference"]

    status = run(hotline, "complaint_status", **verified(EMMA, language="en"))
    assert status.outcome == "open" and status.data["complaint_reference"] == second

    desk, actor = hotline.complaints, "agent:sam"
    second_id = db.one("complaints", reference=second)["id"]
    desk.acknowledge(actor, second_id)
    status = run(hotline, "complaint_status", **verified(EMMA, language="en"))
    assert status.outcome == "acknowledged" and status.data["complaint_reference"] == second

    desk.resolve(actor, second_id, "refunded the fee")
    status = run(hotline, "complaint_status", **verified(EMMA, language="en"))
    assert status.outcome == "open" and status.data["complaint_reference"] == first
    # another account's complaints are not this caller's
    assert run(hotline, "complaint_status", **verified(LI_WEI)).outcome == "none"


def test_the_desk_lists_overdue_first_and_audits_every_change(
    hotline: Components, clock: StoppedClock, db: Db
) -> None:
    old = db.one("complaints", reference=open_one(hotline).data["complaint_reference"])
    clock.advance(hours=30)  # the first one is past its 24 h to acknowledge
    new = db.one("complaints", reference=open_one(hotline).data["complaint_reference"])
    desk = hotline.complaints

    assert [c.id for c in desk.unresolved()] == [old["id"], new["id"]]
    assert desk.unresolved()[0].overdue(clock.now())
    desk.acknowledge("agent:sam", old["id"], "on it")  # now due in 7 days: no longer overdue
    clock.advance(hours=1)
    assert [c.id for c in desk.unresolved()] == [new["id"], old["id"]]

    desk.assign("agent:sam", new["id"], "alice")
    desk.note("agent:sam", new["id"], "called the customer back")
    done = desk.resolve("agent:sam", new["id"], "fee refunded")
    assert (done.state, done.assigned_to, done.resolved_at) == ("resolved", "alice", clock.now())
    actions = [e.action for e in desk.file(new["id"]).events]
    assert actions == ["opened", "assigned", "noted", "resolved"]
    audited = [r["action"] for r in db.rows("audit_log") if r["actor"] == "agent:sam"]
    assert audited == [
        "complaint_acknowledged",
        "complaint_assigned",
        "complaint_noted",
        "complaint_resolved",
    ]
    with pytest.raises(ComplaintRefused, match="resolved already"):
        desk.resolve("agent:sam", new["id"], "again")
    with pytest.raises(ComplaintRefused, match="no agent"):
        desk.assign("agent:sam", old["id"], "nobody")
    with pytest.raises(ComplaintRefused) as missing:
        desk.note("agent:sam", 9999, "x")
    assert missing.value.missing


def test_complaint_counts_for_a_report(hotline: Components, clock: StoppedClock, db: Db) -> None:
    start = clock.now()
    late = db.one("complaints", reference=open_one(hotline).data["complaint_reference"])
    clock.advance(hours=2)
    on_time = db.one("complaints", reference=open_one(hotline).data["complaint_reference"])
    clock.advance(hours=2)
    open_one(hotline)  # stays open
    hotline.complaints.resolve("agent:sam", on_time["id"], "done in time")
    clock.advance(days=8)
    hotline.complaints.resolve("agent:sam", late["id"], "done late")
    now = clock.now()
    period = Period(start, now + timedelta(seconds=1), "UTC")

    with Session(db.engine) as session:
        counts = complaint_counts(session, period, now)
    with db.engine.connect() as conn:
        assert complaint_counts(conn, period, now) == counts
    assert counts == {"opened": 3, "open": 1, "overdue": 1, "resolved": 2, "resolved_late": 1}
    before = Period(start - 2 * DAY, start, "UTC")
    with db.engine.connect() as conn:
        assert complaint_counts(conn, before, now) == {
            "opened": 0, "open": 1, "overdue": 1, "resolved": 0, "resolved_late": 0
        }  # fmt: skip


@pytest.fixture
def product(outage: Outage, tmp_path: Path) -> Iterator[Components]:
    """The hotline on the database behind the switch; a writer gives up after 1 s."""
    settings = Settings(
        flow_path=FLOW_PATH,
        database_url=outage.url,
        log_level="WARNING",
        spool_dir=tmp_path / "spool",
        db_busy_timeout=1,
    )
    hotline = bootstrap(settings, StoppedClock())
    yield hotline
    hotline.database.dispose()


def test_a_database_away_while_opening_gives_the_error_route_and_writes_nothing(
    product: Components, outage: Outage
) -> None:
    product.use_cases  # noqa: B018 - the schema checked while the database is there
    outage.cut()
    try:
        assert open_one(product).outcome == "error"  # the flow's route: system_error
    finally:
        outage.restore()
    direct = Db(outage.direct)
    try:
        counts = [direct.count(t) for t in ("complaints", "complaint_events", "sms_outbox")]
        assert counts == [0, 0, 0]
        assert direct.rows("audit_log", action="complaint_opened") == []
        assert open_one(product).outcome == "opened"  # and it works again once it is back
        assert direct.count("complaints") == 1 and direct.count("sms_outbox") == 1
    finally:
        direct.close()
