"""The contact center without a database: what it decides before any storage, and that
the secret key is read only when a code is needed. (Its storage paths are covered on
both backends in tests/integration/services/test_contact_store.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import BackendDown, BrokenUnitOfWork, FakeStore, FixedClock
from start_date import OPEN_UTC

from ivr.app.bootstrap import center_settings
from ivr.app.config import Settings
from ivr.services.contact_center import DISPOSITIONS, ContactCenter, Refused

NOW = OPEN_UTC


class _Down:
    """A contact-center repository whose store went away."""

    def __getattr__(self, name: str) -> object:
        raise BackendDown(f"{name}: store unreachable")


def _broken_unit_of_work(store: FakeStore) -> BrokenUnitOfWork:
    uow = BrokenUnitOfWork(store)
    uow.agents = uow.queue = uow.callbacks = uow.notes = uow.code_attempts = _Down()  # type: ignore[assignment]
    return uow


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "var" / "secret.key"


@pytest.fixture
def broken(key_file: Path) -> ContactCenter:
    """A contact center whose store is down at every operation."""
    store = FakeStore()
    settings = Settings(Path("callflows.yaml"), "sqlite://", "WARNING", secret_key_file=key_file)
    return ContactCenter(
        lambda: _broken_unit_of_work(store), FixedClock(NOW), center_settings(settings)
    )


def test_an_unknown_disposition_is_refused_before_touching_the_store(
    broken: ContactCenter,
) -> None:
    assert broken.complete(1, 1, "made_up", "text") == Refused("unknown disposition 'made_up'")
    assert DISPOSITIONS == ("resolved", "follow_up", "escalated", "wrong_number", "other")


def test_a_broken_store_raises_to_the_driver_which_takes_the_safe_route(
    broken: ContactCenter,
) -> None:
    with pytest.raises(BackendDown):
        broken.dispatch()
    with pytest.raises(BackendDown):
        broken.place(1)


def test_the_secret_key_is_read_only_when_a_code_is_needed(
    broken: ContactCenter, key_file: Path
) -> None:
    with pytest.raises(BackendDown):
        broken.dispatch()
    assert not key_file.exists()
    with pytest.raises(BackendDown):
        broken.resume("123456", "+15550000000", "call-1")  # needs the key, then the store
    assert key_file.exists() and key_file.stat().st_mode & 0o777 == 0o600


def test_settings_read_the_new_variables() -> None:
    settings = Settings.from_env(
        {"IVR_SECRET_KEY": "k", "IVR_WRAP_UP_SECONDS": "5", "IVR_CALLBACK_OFFER_AFTER": "60"}
    )
    assert (settings.secret(), settings.wrap_up_seconds, settings.callback_offer_after) == (
        b"k",
        5,
        60,
    )
    defaults = Settings.from_env({})
    assert (defaults.secret_key, defaults.wrap_up_seconds, defaults.callback_offer_after) == (
        None,
        30,
        120,
    )
