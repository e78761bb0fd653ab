"""Issue 13's operations endpoints on the web app (Flask's test client): ``/metrics``
parsed with the prometheus client's own parser, its values moving as things happen (a
call in progress over FastAGI, a failed verification, a forged Twilio signature, a caller
waiting in a queue, the reaper, a database error); ``/healthz`` and ``/readyz`` with the
database there, away and behind; none of them behind a sign-in or a rate limit."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import OperationalError

from integration.fastagi_calls import Caller, wait_for
from integration.phone.twilio.test_twilio_voice import BASE, TOKEN, Phone, twilio_client
from integration.support import FLOW_PATH, LI_WEI, Db, StoppedClock
from ivr.app.bootstrap import Components, bootstrap
from ivr.app.cli_serve import serve_fastagi
from ivr.app.config import Settings
from ivr.phone.asterisk.fastagi import FastAgiServer
from ivr.services.contact_entries import WaitingCall
from ivr.store.schema import HEAD
from ivr.web import create_app

sqlite = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
NUMBER, PIN, PHONE = LI_WEI
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: FlaskClient) -> Samples:
    """``/metrics`` as the prometheus client's parser reads it: (name, labels) -> value."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.content_type.startswith("text/plain; version=")
    return parsed(response.get_data(as_text=True))


def parsed(exposition: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def settings_for(url: str) -> Settings:
    return Settings(flow_path=FLOW_PATH, database_url=url, log_level="WARNING")


def web(hotline: Components) -> FlaskClient:
    return create_app(hotline, {"TESTING": True, "SECRET_KEY": "x"}).test_client()


@pytest.fixture
def fastagi(hotline: Components) -> Iterator[FastAgiServer]:
    """The hotline's FastAGI server in this process, on a free port."""
    ready = threading.Event()
    holder: list[FastAgiServer] = []

    def on_ready(server: FastAgiServer) -> None:
        holder.append(server)
        ready.set()

    thread = threading.Thread(target=serve_fastagi, args=(hotline, "127.0.0.1", 0, on_ready))
    thread.start()
    assert ready.wait(30), "the FastAGI server did not start"
    yield holder[0]
    holder[0].shutdown()
    thread.join(30)


@sqlite
def test_a_call_in_progress_over_fastagi_shows_and_its_agi_commands_are_timed(
    hotline: Components, fastagi: FastAgiServer
) -> None:
    client = web(hotline)
    before = scrape(client)
    caller = Caller(fastagi.address[1], "1 0", "1700000000.77", stall_at="STREAM FILE").start()
    try:
        wait_for(caller.stalled.is_set, "the call to reach its first prompt")
        during = scrape(client)
    finally:
        caller.release.set()
        caller.join()

    calls = value(before, "ivr_calls_in_progress", channel="fastagi")  # others' still going
    assert value(during, "ivr_calls_in_progress", channel="fastagi") == calls + 1
    answered = value(during, "ivr_agi_command_seconds_count", command="ANSWER")
    assert answered == value(before, "ivr_agi_command_seconds_count", command="ANSWER") + 1
    wait_for(
        lambda: value(scrape(client), "ivr_calls_in_progress", channel="fastagi") == calls,
        "the call to end",
    )
    after = scrape(client)
    assert value(after, "ivr_agi_command_seconds_count", command="STREAM FILE") > value(
        before, "ivr_agi_command_seconds_count", command="STREAM"
    )


@sqlite
def test_a_failed_verification_counts_without_the_number_or_the_pin(
    hotline: Components,
) -> None:
    client = web(hotline)
    before = scrape(client)
    args = {"account_number": NUMBER, "pin": "999999", "ani": PHONE, "call_id": "c-1"}

    assert hotline.use_cases.verify_identity(args).outcome == "failure"
    assert hotline.use_cases.verify_identity({**args, "pin": PIN}).outcome == "success"

    after = scrape(client)
    failures = "ivr_verification_failures_total"
    assert (
        value(after, failures, outcome="failure") == value(before, failures, outcome="failure") + 1
    )
    labels = " ".join(str(sorted(key)) for _, key in after)  # the values are numbers
    for secret in (NUMBER, PIN, PHONE, "999999", "c-1"):
        assert secret not in labels


@sqlite
def test_a_forged_twilio_signature_is_refused_and_counted(hotline: Components) -> None:
    hotline.settings = replace(hotline.settings, twilio_auth_token=TOKEN, public_url=BASE)
    client = twilio_client(hotline)
    before = scrape(client)
    phone = Phone(client, "CA" + "1" * 32, PHONE)

    assert phone.send("/twilio/voice", token="not-the-token").status_code == 403
    assert phone.send("/twilio/voice", token=None).status_code == 403

    after = scrape(client)
    refusals = "ivr_webhook_signature_refusals_total"
    for reason in ("bad_signature", "no_signature"):
        assert value(after, refusals, reason=reason) == value(before, refusals, reason=reason) + 1


@sqlite
def test_a_twilio_call_is_in_progress_from_its_first_webhook_to_its_final_status(
    hotline: Components,
) -> None:
    hotline.settings = replace(
        hotline.settings, twilio_auth_token=TOKEN, public_url=BASE, secret_key="k" * 32
    )
    client = twilio_client(hotline)
    phone = Phone(client, "CA" + "2" * 32, PHONE)
    # (other tests in this process may have left Twilio calls without a final status)
    before = value(scrape(client), "ivr_calls_in_progress", channel="twilio")

    phone.start()
    phone.start()  # Twilio retried the first webhook: still one call
    during = value(scrape(client), "ivr_calls_in_progress", channel="twilio")
    assert phone.send("/twilio/status", CallStatus="completed").status_code == 204

    assert during == before + 1
    assert value(scrape(client), "ivr_calls_in_progress", channel="twilio") == before


def waiting(call_id: str, queue: str = "general") -> WaitingCall:
    return WaitingCall(
        call_id=call_id,
        queue=queue,
        priority=1,
        skill=queue,
        language="en",
        caller_id=PHONE,
        account_number=None,
        reason="general",
        path=("welcome", "main_menu"),
    )


def test_a_caller_waiting_shows_the_queue_depth_and_the_oldest_wait(
    hotline: Components, clock: StoppedClock
) -> None:
    client = web(hotline)
    empty = scrape(client)
    assert value(empty, "ivr_database_up") == 1
    assert value(empty, "ivr_queue_depth", queue="general", kind="call") == 0
    assert value(empty, "ivr_queue_oldest_wait_seconds", queue="general") == 0

    hotline.contact_center.enqueue(waiting("call-1"))
    clock.advance(seconds=42)
    hotline.contact_center.enqueue(waiting("call-2"))
    clock.advance(seconds=3)

    samples = scrape(client)
    assert value(samples, "ivr_queue_depth", queue="general", kind="call") == 2
    assert value(samples, "ivr_queue_oldest_wait_seconds", queue="general") == 45
    assert sum(v for (name, _), v in samples.items() if name == "ivr_agents") == 4  # the demo's
    assert PHONE not in " ".join(str(key) for _, key in samples)


@sqlite
def test_the_reaper_abandoning_a_lapsed_entry_counts_as_a_reaper_action(
    hotline: Components, clock: StoppedClock
) -> None:
    client = web(hotline)
    before = scrape(client)
    hotline.contact_center.enqueue(waiting("call-3"))
    clock.advance(seconds=hotline.settings.queue_lease_seconds + 1)

    assert hotline.contact_center.reap().lapsed == 1

    after = scrape(client)
    actions = "ivr_reaper_actions_total"
    assert (
        value(after, actions, kind="lease_expired")
        == value(before, actions, kind="lease_expired") + 1
    )
    assert value(after, "ivr_queue_depth", queue="general", kind="call") == 0


@sqlite
def test_a_unit_of_work_failing_on_the_database_counts_as_a_database_error(
    hotline: Components, db: Db
) -> None:
    client = web(hotline)
    before = scrape(client)
    db.execute("DROP TABLE sms_outbox")  # a statement on it now fails

    with pytest.raises(OperationalError), hotline.unit_of_work() as uow:
        uow.outbox.expire(hotline.clock.now())

    after = scrape(client)
    errors = "ivr_database_errors_total"
    assert (
        value(after, errors, error="OperationalError")
        == value(before, errors, error="OperationalError") + 1
    )


# -- the database away: the scrape answers, readiness says which check failed -------------


@pytest.fixture
def gone(tmp_path: Path, clock: StoppedClock) -> Iterator[Components]:
    """A hotline whose SQLite file's folder was removed before it first connected."""
    folder = tmp_path / "gone"
    hotline = bootstrap(settings_for(f"sqlite:///{folder / 'ivr.sqlite3'}"), clock=clock)
    hotline.database  # noqa: B018 - connect() makes the folder...
    folder.rmdir()  # ...and it goes away
    yield hotline
    hotline.database.dispose()


def test_with_the_database_away_the_scrape_still_answers(gone: Components) -> None:
    client = web(gone)
    before = scrape(client)
    assert value(before, "ivr_database_up") == 0
    again = scrape(client)

    assert value(again, "ivr_database_up") == 0
    failures = "ivr_metrics_database_failures_total"
    assert value(again, failures) == value(before, failures) + 1
    assert not any(name == "ivr_queue_depth" for name, _ in again)


def test_with_the_database_away_healthz_is_200_and_readyz_503_names_the_database(
    gone: Components,
) -> None:
    client = web(gone)

    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["schema"]["ok"] is False
    assert body["checks"]["flow"]["ok"] is True


def test_readyz_on_a_closed_postgresql_port_names_no_password(
    clock: StoppedClock, unused_port: int
) -> None:
    url = f"postgresql+psycopg://ivr:s3cret-pass@127.0.0.1:{unused_port}/ivr"
    hotline = bootstrap(settings_for(url), clock=clock)
    client = web(hotline)

    response = client.get("/readyz")
    metrics = client.get("/metrics").get_data(as_text=True)

    assert response.status_code == 503
    assert response.get_json()["checks"]["database"]["ok"] is False
    for said in (response.get_data(as_text=True), metrics):
        assert "s3cret-pass" not in said and "postgresql" not in said
    assert value(parsed(metrics), "ivr_database_up") == 0


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_readyz_is_200_on_a_current_schema_and_503_on_one_behind(
    hotline: Components, db: Db
) -> None:
    client = web(hotline)

    ok = client.get("/readyz")
    assert ok.status_code == 200, ok.text
    assert ok.get_json() == {
        "status": "ready",
        "checks": {
            "database": {"ok": True, "detail": "ok"},
            "schema": {"ok": True, "detail": f"at {HEAD}"},
            "flow": {"ok": True, "detail": ok.get_json()["checks"]["flow"]["detail"]},
        },
    }

    db.execute("UPDATE alembic_version SET version_num = '0008'")
    behind = client.get("/readyz")

    assert behind.status_code == 503
    schema = behind.get_json()["checks"]["schema"]
    assert schema == {"ok": False, "detail": f"at 0008; this code needs {HEAD}"}
    assert behind.get_json()["checks"]["database"]["ok"] is True


@sqlite
def test_the_endpoints_need_no_sign_in_and_are_not_rate_limited(
    hotline: Components, make_hotline: Callable[..., Components]
) -> None:
    app = create_app(
        hotline, {"TESTING": True, "SECRET_KEY": "x", "RATELIMIT_DEFAULT": "2 per minute"}
    )
    client = app.test_client()

    for _ in range(10):
        for path in ("/metrics", "/healthz", "/readyz"):
            assert client.get(path).status_code == 200, path
    # the default limit applies elsewhere
    assert [client.get("/login").status_code for _ in range(3)] == [200, 200, 429]


@sqlite
def test_readyz_is_503_naming_the_flow_when_it_cannot_be_loaded(
    seeded_url: str, clock: StoppedClock, tmp_path: Path
) -> None:
    settings = replace(settings_for(seeded_url), flow_path=tmp_path / "missing.yaml")
    hotline = bootstrap(settings, clock=clock)
    try:
        response = web(hotline).get("/readyz")
    finally:
        hotline.database.dispose()

    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["flow"] == {"ok": False, "detail": "not loaded (FlowErrors)"}
    assert checks["database"]["ok"] and checks["schema"]["ok"]
