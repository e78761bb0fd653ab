"""PostgreSQL connections ask libpq not to try GSSAPI encryption unless the URL says
otherwise (``ivr.store.db.without_gss``: its Kerberos library crashes when threads connect
at once)."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from ivr.store.db import connect, without_gss


def test_gss_is_off_unless_the_url_names_a_mode() -> None:
    assert without_gss(make_url("postgresql+psycopg://u@h/db")) == {"gssencmode": "disable"}
    assert without_gss(make_url("postgresql+psycopg://u@h/db?gssencmode=prefer")) == {}


def test_connections_opened_by_many_threads_at_once_have_gss_off(postgres_admin: Engine) -> None:
    engine = connect(postgres_admin.url.render_as_string(hide_password=False))
    modes: list[str] = []
    start = threading.Barrier(16)

    def one() -> None:
        start.wait()
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            options = conn.connection.dbapi_connection.pgconn.info  # type: ignore[union-attr]
            modes.append({o.keyword: o.val for o in options}[b"gssencmode"].decode())

    threads = [threading.Thread(target=one) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    assert modes == ["disable"] * 16
