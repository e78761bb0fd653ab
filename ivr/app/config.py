"""Settings from the environment, read once into one frozen object."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ivr.app.env_values import (
    callbacks_via,
    count,
    flag,
    instant,
    log_format,
    port,
    seconds,
    whole,
)
from ivr.app.secret_keys import load_or_create_key

DEFAULT_WRAP_UP_SECONDS = 30
DEFAULT_CALLBACK_OFFER_AFTER = 120
DEFAULT_QUEUE_LEASE_SECONDS = 30
DEFAULT_FASTAGI_MAX_CALLS = 256
DEFAULT_FASTAGI_MAX_PENDING = 4000
DEFAULT_RECORD_LEASE = 60
DEFAULT_DB_BUSY_TIMEOUT = 30
#: At most this many database connections per process: PostgreSQL allows 100 by default
#: (``max_connections``), which leaves room for two processes and the tools.
DEFAULT_DB_POOL_SIZE = 40
DEFAULT_DB_POOL_TIMEOUT = 5
#: Threads of ``ivr serve``'s web server (waitress).
WEB_THREADS = 16


@dataclass(frozen=True)
class Settings:
    flow_path: Path
    database_url: str
    log_level: str
    #: ``IVR_SECRET_KEY``; without it a random key kept in ``secret_key_file``.
    secret_key: str | None = field(default=None, repr=False)
    #: Where the generated key lives (None: ``var/secret.key`` beside the flow file, so
    #: every process serving that flow, whatever its working directory, shares one key).
    #: Read or created only when a key is first needed (``secret()``).
    secret_key_file: Path | None = None
    wrap_up_seconds: int = DEFAULT_WRAP_UP_SECONDS
    callback_offer_after: int = DEFAULT_CALLBACK_OFFER_AFTER
    #: ``IVR_QUEUE_LEASE_SECONDS``: how long a queue entry lives after its holder (the
    #: process holding the caller) last renewed it; then the reaper abandons it.
    queue_lease_seconds: int = DEFAULT_QUEUE_LEASE_SECONDS
    #: ``IVR_TWILIO_AUTH_TOKEN``: signs Twilio's webhooks; without it they are all refused.
    twilio_auth_token: str | None = field(default=None, repr=False)
    #: ``IVR_PUBLIC_URL``: the base URL Twilio calls (behind a proxy or tunnel), e.g.
    #: ``https://ivr.example.com``; None: the URL the request arrived at.
    public_url: str | None = None
    # -- outbound through Twilio's REST API (ivr.phone.twilio.rest) --
    #: ``IVR_TWILIO_ACCOUNT_SID``; with the auth token and ``twilio_from``, the dispatcher
    #: sends the SMS outbox through Twilio.
    twilio_account_sid: str | None = None
    #: ``IVR_TWILIO_FROM``: the hotline's number, E.164 (SMS sender, callbacks' caller id).
    twilio_from: str | None = None
    #: ``IVR_TWILIO_API_BASE``: the API's base URL (None: the client's own,
    #: https://api.twilio.com); the tests point it at a local stand-in.
    twilio_api_base: str | None = None
    #: ``IVR_CALLBACKS_VIA``: how callbacks are dialled, ``asterisk`` (call files) or
    #: ``twilio`` (``calls.create``).
    callbacks_via: str = "asterisk"
    #: ``IVR_FASTAGI_MAX_CALLS``: FastAGI calls served at once (each holds a thread).
    fastagi_max_calls: int = DEFAULT_FASTAGI_MAX_CALLS
    #: ``IVR_FASTAGI_MAX_PENDING``: FastAGI connections still sending their environment.
    fastagi_max_pending: int = DEFAULT_FASTAGI_MAX_PENDING
    #: ``IVR_DB_POOL_SIZE``: the most database connections the process opens (the pool
    #: is sized to the calls, web threads and background threads it serves, up to this).
    db_pool_size: int = DEFAULT_DB_POOL_SIZE
    #: ``IVR_DB_POOL_TIMEOUT``: seconds a call waits for a connection (on SQLite: for the
    #: writer lock) before its use case takes the flow's error route.
    db_pool_timeout: int = DEFAULT_DB_POOL_TIMEOUT
    #: ``IVR_RATELIMIT_STORAGE_URI``: where the per-client sign-in throttle counts
    #: (Flask-Limiter); ``memory://`` is per process, several processes need a shared
    #: store such as ``redis://host:6379``.
    ratelimit_storage_uri: str = "memory://"
    #: ``IVR_SECURE_COOKIES`` (1/0): the session cookie's ``Secure`` flag; None (unset):
    #: on when ``public_url`` is https.
    secure_cookies: bool | None = None
    #: ``IVR_CLOCK_START``: the process's clock starts at this instant and runs on from
    #: there (tests and demos); None, the default: the real time.
    clock_start: datetime | None = None

    #: ``IVR_PEPPER``: the key PIN hashes are made with, never stored in the database;
    #: without it a random one kept in ``pepper_file``.
    pepper_key: str | None = field(default=None, repr=False)
    #: ``IVR_PEPPER_FILE`` (None: ``var/pepper.key`` beside the flow file, like the
    #: secret key). Losing it locks every PIN; back it up apart from the database.
    pepper_file: Path | None = None
    #: ``IVR_RECORD_LEASE``: seconds an open call record may go unwritten (and its call
    #: hold no queue entry) before the reaper closes it as ``interrupted``.
    record_lease: int = DEFAULT_RECORD_LEASE
    #: ``IVR_SPOOL_DIR``: where call records wait while the database is away (None:
    #: ``var/spool`` beside the flow file); each database has its own folder in it.
    spool_dir: Path | None = None
    #: ``IVR_DB_BUSY_TIMEOUT``: seconds an SQLite writer waits for another's lock.
    db_busy_timeout: int = DEFAULT_DB_BUSY_TIMEOUT
    #: ``IVR_LOG_FORMAT``: ``text`` (the default) or ``json`` (one object a line, with
    #: the call id on every line logged while a call is handled).
    log_format: str = "text"
    #: ``IVR_METRICS_PORT``: ``ivr fastagi`` serves ``/metrics`` on this port (None: not
    #: at all; ``ivr serve`` has ``/metrics`` on its web port).
    metrics_port: int | None = None
    #: ``IVR_METRICS_HOST``: the address that port is bound to.
    metrics_host: str = "127.0.0.1"

    def record_spool(self) -> Path:
        """This database's call-record spool folder (``ivr.store.record_spool``)."""
        base = self.spool_dir or self.flow_path.resolve().parent / "var" / "spool"
        database = hashlib.sha256(self.database_url.encode("utf-8")).hexdigest()[:12]
        return base / f"call-records-{database}"

    @property
    def cookies_secure(self) -> bool:
        """Whether the session cookie is sent over https only."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return (self.public_url or "").lower().startswith("https://")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """``IVR_FLOW`` (callflows.yaml), ``IVR_DATABASE_URL`` (an SQLite file under
        ./var), ``IVR_LOG_LEVEL`` (WARNING), ``IVR_SECRET_KEY`` (else a key kept in
        ``IVR_SECRET_KEY_FILE``, by default var/secret.key beside the flow file),
        ``IVR_WRAP_UP_SECONDS`` (30), ``IVR_CALLBACK_OFFER_AFTER``
        (120 seconds of estimated wait), ``IVR_QUEUE_LEASE_SECONDS`` (30),
        ``IVR_TWILIO_AUTH_TOKEN``, ``IVR_PUBLIC_URL``,
        ``IVR_TWILIO_ACCOUNT_SID``, ``IVR_TWILIO_FROM``, ``IVR_TWILIO_API_BASE``,
        ``IVR_CALLBACKS_VIA`` (asterisk), ``IVR_FASTAGI_MAX_CALLS`` (256),
        ``IVR_FASTAGI_MAX_PENDING`` (4000), ``IVR_DB_POOL_SIZE`` (40),
        ``IVR_DB_POOL_TIMEOUT`` (5 seconds),
        ``IVR_RATELIMIT_STORAGE_URI`` (memory://),
        ``IVR_SECURE_COOKIES`` (on for an https ``IVR_PUBLIC_URL``),
        ``IVR_CLOCK_START`` (unset: the real time), ``IVR_PEPPER`` (else a key kept in
        ``IVR_PEPPER_FILE``, by default var/pepper.key beside the flow file),
        ``IVR_RECORD_LEASE`` (60), ``IVR_SPOOL_DIR`` (var/spool beside the flow file),
        ``IVR_DB_BUSY_TIMEOUT`` (30 seconds, SQLite), ``IVR_LOG_FORMAT`` (text),
        ``IVR_METRICS_PORT`` (unset), ``IVR_METRICS_HOST`` (127.0.0.1)."""
        env = os.environ if env is None else env
        default_db = f"sqlite:///{Path.cwd() / 'var' / 'ivr.sqlite3'}"
        return cls(
            flow_path=Path(env.get("IVR_FLOW", "callflows.yaml")),
            database_url=env.get("IVR_DATABASE_URL") or default_db,
            log_level=env.get("IVR_LOG_LEVEL", "WARNING").upper(),
            secret_key=env.get("IVR_SECRET_KEY") or None,
            secret_key_file=Path(env["IVR_SECRET_KEY_FILE"])
            if env.get("IVR_SECRET_KEY_FILE")
            else None,
            wrap_up_seconds=seconds(env, "IVR_WRAP_UP_SECONDS", DEFAULT_WRAP_UP_SECONDS),
            callback_offer_after=seconds(
                env, "IVR_CALLBACK_OFFER_AFTER", DEFAULT_CALLBACK_OFFER_AFTER
            ),
            queue_lease_seconds=whole(
                env,
                "IVR_QUEUE_LEASE_SECONDS",
                DEFAULT_QUEUE_LEASE_SECONDS,
                1,
                "a whole number of seconds",
            ),  # fmt: skip
            twilio_auth_token=env.get("IVR_TWILIO_AUTH_TOKEN") or None,
            public_url=(env.get("IVR_PUBLIC_URL") or "").rstrip("/") or None,
            twilio_account_sid=env.get("IVR_TWILIO_ACCOUNT_SID") or None,
            twilio_from=env.get("IVR_TWILIO_FROM") or None,
            twilio_api_base=(env.get("IVR_TWILIO_API_BASE") or "").rstrip("/") or None,
            callbacks_via=callbacks_via(env),
            fastagi_max_calls=count(env, "IVR_FASTAGI_MAX_CALLS", DEFAULT_FASTAGI_MAX_CALLS),
            fastagi_max_pending=count(env, "IVR_FASTAGI_MAX_PENDING", DEFAULT_FASTAGI_MAX_PENDING),
            db_pool_size=count(env, "IVR_DB_POOL_SIZE", DEFAULT_DB_POOL_SIZE),
            db_pool_timeout=whole(
                env, "IVR_DB_POOL_TIMEOUT", DEFAULT_DB_POOL_TIMEOUT, 1, "a whole number of seconds"
            ),
            ratelimit_storage_uri=env.get("IVR_RATELIMIT_STORAGE_URI") or "memory://",
            secure_cookies=flag(env, "IVR_SECURE_COOKIES"),
            clock_start=instant(env, "IVR_CLOCK_START"),
            pepper_key=env.get("IVR_PEPPER") or None,
            pepper_file=Path(env["IVR_PEPPER_FILE"]) if env.get("IVR_PEPPER_FILE") else None,
            record_lease=count(env, "IVR_RECORD_LEASE", DEFAULT_RECORD_LEASE),
            spool_dir=Path(env["IVR_SPOOL_DIR"]) if env.get("IVR_SPOOL_DIR") else None,
            db_busy_timeout=seconds(env, "IVR_DB_BUSY_TIMEOUT", DEFAULT_DB_BUSY_TIMEOUT),
            log_format=log_format(env),
            metrics_port=port(env, "IVR_METRICS_PORT"),
            metrics_host=env.get("IVR_METRICS_HOST", "").strip() or "127.0.0.1",
        )

    def secret(self) -> bytes:
        """The key callback codes are derived with: ``IVR_SECRET_KEY``, else the key file
        (created 0600 with a random key on first use)."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.secret_key_file or self.flow_path.resolve().parent / "var" / "secret.key"
        return load_or_create_key(path)

    def pepper(self) -> bytes:
        """The key PIN hashes are made with (``ivr.services.pins``): ``IVR_PEPPER``, else
        the pepper file (created 0600 with a random key on first use)."""
        if self.pepper_key:
            return self.pepper_key.encode()
        path = self.pepper_file or self.flow_path.resolve().parent / "var" / "pepper.key"
        return load_or_create_key(path, "pepper")
