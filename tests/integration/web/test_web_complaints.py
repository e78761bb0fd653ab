"""Complaints in the supervisor's console and the JSON API, on a real seeded database:
overdue ones first with their deadlines in the hotline's time zone; assign, note,
acknowledge and resolve, each audited with who did it; agents refused; a form without
the CSRF token refused and nothing changed."""

from __future__ import annotations

import html
import re

import pytest

from integration.support import EMMA, LI_WEI, Db, StoppedClock
from integration.web_client import Web
from ivr.app.bootstrap import Components
from ivr.flow.actions import RunAction


def open_complaint(hotline: Components, who: tuple[str, str, str], category: str) -> str:
    args = {
        "verified": "yes",
        "verified_account": who[0],
        "complaint_category": category,
        "call_id": f"c-{category}",
        "language": "en",
    }
    result = hotline.use_cases.run(RunAction("complaint_open", "open_complaint", args))
    assert result.outcome == "opened"
    return result.data["complaint_reference"]


def signed_in(hotline: Components, username: str = "sam") -> Web:
    """Signed in now (a session idle past its limit while the test's clock moved on would
    send the browser back to the sign-in page)."""
    web = Web(hotline)
    assert web.sign_in(username).status_code == 302
    return web


@pytest.fixture
def sam(hotline: Components) -> Web:
    return signed_in(hotline)


def text_of(web: Web, path: str) -> str:
    response = web.client.get(path)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def complaint_id(db: Db, reference: str) -> int:
    return int(db.one("complaints", reference=reference)["id"])


def test_open_complaints_are_listed_overdue_first_in_beijing_time(
    hotline: Components, clock: StoppedClock
) -> None:
    older = open_complaint(hotline, EMMA, "fees")
    clock.advance(hours=25)  # the first is past its 24 h to acknowledge
    newer = open_complaint(hotline, LI_WEI, "service")
    sam = signed_in(hotline)

    page = text_of(sam, "/supervisor/complaints/")

    assert page.index(older) < page.index(newer)
    row = page[page.index(f'data-reference="{older}"') :]
    assert "(overdue)" in row[: row.index("</tr>")]
    assert "Times in Asia/Shanghai" in page
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d CST", page)  # Beijing time, not UTC
    assert "Complaints" in text_of(sam, "/supervisor/")  # linked from the supervisor view


def test_assign_note_acknowledge_and_resolve_are_audited(
    sam: Web, hotline: Components, db: Db
) -> None:
    reference = open_complaint(hotline, EMMA, "payment")
    cid = complaint_id(db, reference)
    base = f"/supervisor/complaints/{cid}"

    assert sam.form(f"{base}/assign", username="alice").status_code == 302
    assert sam.form(f"{base}/note", note="Called back, waiting for the merchant").status_code == 302
    assert sam.form(f"{base}/acknowledge", note="").status_code == 302
    assert sam.form(f"{base}/resolve", note="Refund made").status_code == 302

    row = db.one("complaints", id=cid)
    assert (row["state"], row["assigned_to"]) == ("resolved", "alice")
    assert row["acknowledged_at"] is not None and row["resolved_at"] is not None
    events = db.rows("complaint_events", complaint_id=cid)
    assert [(e["actor"], e["action"]) for e in events] == [
        ("ivr", "opened"),
        ("agent:sam", "assigned"),
        ("agent:sam", "noted"),
        ("agent:sam", "acknowledged"),
        ("agent:sam", "resolved"),
    ]
    assert events[2]["note"] == "Called back, waiting for the merchant"
    audited = [(r["actor"], r["action"]) for r in db.rows("audit_log") if r["actor"] != "ivr"]
    assert audited == [
        ("agent:sam", "complaint_assigned"),
        ("agent:sam", "complaint_noted"),
        ("agent:sam", "complaint_acknowledged"),
        ("agent:sam", "complaint_resolved"),
    ]
    page = text_of(sam, base)
    assert "Refund made" in page and "agent:sam" in page
    assert reference not in text_of(sam, "/supervisor/complaints/")  # resolved: off the list


def test_a_refused_change_is_said_and_changes_nothing(
    sam: Web, hotline: Components, db: Db
) -> None:
    cid = complaint_id(db, open_complaint(hotline, EMMA, "fees"))
    response = sam.form(f"/supervisor/complaints/{cid}/resolve", note="  ")
    assert response.status_code == 302
    assert "write a note" in text_of(sam, f"/supervisor/complaints/{cid}")
    assert db.one("complaints", id=cid)["state"] == "open"
    assert sam.form("/supervisor/complaints/99999/note", note="x").status_code == 404


def test_an_agent_is_refused(hotline: Components, db: Db) -> None:
    cid = complaint_id(db, open_complaint(hotline, EMMA, "fees"))
    alice = signed_in(hotline, "alice")

    assert alice.client.get("/supervisor/complaints/").status_code == 403
    assert alice.form(f"/supervisor/complaints/{cid}/resolve", note="mine now").status_code == 403
    assert alice.api("GET", "/api/complaints").status_code == 403
    assert db.one("complaints", id=cid)["state"] == "open"
    assert db.count("complaint_events", complaint_id=cid) == 1


def test_a_form_without_the_csrf_token_is_refused(sam: Web, hotline: Components, db: Db) -> None:
    cid = complaint_id(db, open_complaint(hotline, EMMA, "fees"))
    path = f"/supervisor/complaints/{cid}/resolve"

    assert sam.client.post(path, data={"note": "forged"}).status_code == 403
    assert sam.client.post(path, data={"note": "forged", "csrf_token": "x"}).status_code == 403
    assert sam.api("POST", f"/api/complaints/{cid}/resolve", {"note": "forged"},
                   headers={"X-CSRF-Token": "wrong"}).status_code == 403  # fmt: skip
    assert db.one("complaints", id=cid)["state"] == "open"
    assert db.count("complaint_events", complaint_id=cid) == 1


def test_the_api_lists_and_changes_complaints(
    hotline: Components, clock: StoppedClock, db: Db
) -> None:
    first = open_complaint(hotline, EMMA, "fees")
    clock.advance(hours=2)
    second = open_complaint(hotline, LI_WEI, "security")
    cid = complaint_id(db, second)
    sam = signed_in(hotline)

    listed = sam.api("GET", "/api/complaints").json
    assert listed is not None and listed["timezone"] == "Asia/Shanghai"
    assert [c["reference"] for c in listed["complaints"]] == [first, second]
    assert [c["overdue"] for c in listed["complaints"]] == [False, False]

    done = sam.api("POST", f"/api/complaints/{cid}/acknowledge", {"note": "seen"})
    assert done.status_code == 200 and done.json is not None
    assert done.json["complaint"]["state"] == "acknowledged"
    assert [e["action"] for e in done.json["complaint"]["events"]] == ["opened", "acknowledged"]
    again = sam.api("POST", f"/api/complaints/{cid}/acknowledge", {"note": ""})
    assert again.status_code == 409
    bad = sam.api("POST", f"/api/complaints/{cid}/note", {"note": 5})
    assert bad.status_code == 400
