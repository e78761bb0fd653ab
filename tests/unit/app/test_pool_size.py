"""The database pool a process opens: sized to the threads it serves (FastAGI calls, web
threads, background threads), never above ``IVR_DB_POOL_SIZE``; ``IVR_DB_POOL_TIMEOUT``
is how long a call waits for a connection. Bad values are refused by name."""

from __future__ import annotations

import pytest

from ivr.app.bootstrap import BACKGROUND_THREADS, pool_size
from ivr.app.config import WEB_THREADS, Settings
from ivr.errors import IvrError
from ivr.store.db import PoolSize


def test_by_default_a_process_opens_at_most_forty_connections_and_waits_five_seconds() -> None:
    assert pool_size(Settings.from_env({})) == PoolSize(40, 5)


def test_a_small_process_opens_only_what_its_threads_can_use() -> None:
    settings = Settings.from_env({"IVR_FASTAGI_MAX_CALLS": "4"})
    assert pool_size(settings).size == 4 + WEB_THREADS + BACKGROUND_THREADS


def test_the_size_and_the_wait_come_from_the_environment() -> None:
    env = {"IVR_DB_POOL_SIZE": "3", "IVR_DB_POOL_TIMEOUT": "2"}
    assert pool_size(Settings.from_env(env)) == PoolSize(3, 2)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("IVR_DB_POOL_SIZE", "0", "IVR_DB_POOL_SIZE must be at least 1: 0"),
        ("IVR_DB_POOL_SIZE", "many", "IVR_DB_POOL_SIZE must be a whole number, not 'many'"),
        ("IVR_DB_POOL_TIMEOUT", "0", "IVR_DB_POOL_TIMEOUT must be at least 1: 0"),
        ("IVR_DB_POOL_TIMEOUT", "1.5", "IVR_DB_POOL_TIMEOUT must be a whole number of seconds"),
    ],
)
def test_a_bad_value_is_refused_naming_the_setting(name: str, value: str, says: str) -> None:
    with pytest.raises(IvrError, match=says.replace("(", r"\(")):
        Settings.from_env({name: value})


def test_calls_on_an_event_loop_have_a_pool_of_their_own_and_the_rest_share_a_small_one() -> None:
    settings = Settings.from_env({"IVR_FASTAGI_MAX_CALLS": "30"})
    assert pool_size(settings, others=False).size == 30  # the loop's asyncio engine
    assert pool_size(settings, calls=False).size == WEB_THREADS + BACKGROUND_THREADS
