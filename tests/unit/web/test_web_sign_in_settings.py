"""The web sign-in settings read from the environment, and the ``next`` rule (pure)."""

from __future__ import annotations

import pytest

from ivr.app.config import Settings
from ivr.errors import IvrError
from ivr.web.next_url import safe_next


def settings(**env: str) -> Settings:
    return Settings.from_env(env)


def test_the_cookie_is_secure_exactly_when_the_public_url_is_https() -> None:
    assert not settings().cookies_secure
    assert not settings(IVR_PUBLIC_URL="http://ivr.example.com").cookies_secure
    assert settings(IVR_PUBLIC_URL="https://ivr.example.com").cookies_secure


@pytest.mark.parametrize(("raw", "secure"), [("1", True), ("true", True), ("0", False)])
def test_the_secure_flag_can_be_forced(raw: str, secure: bool) -> None:
    https = settings(IVR_PUBLIC_URL="https://ivr.example.com", IVR_SECURE_COOKIES=raw)
    assert https.cookies_secure is secure
    assert settings(IVR_SECURE_COOKIES=raw).cookies_secure is secure


def test_a_bad_secure_flag_is_a_clear_error() -> None:
    with pytest.raises(IvrError, match="IVR_SECURE_COOKIES must be 1 or 0, not 'maybe'"):
        settings(IVR_SECURE_COOKIES="maybe")


def test_the_rate_limit_store_is_in_memory_unless_set() -> None:
    assert settings().ratelimit_storage_uri == "memory://"
    shared = settings(IVR_RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379")
    assert shared.ratelimit_storage_uri == "redis://127.0.0.1:6379"


@pytest.mark.parametrize(
    "target", ["/", "/console?x=1", "/supervisor/", "/api/queue?a=1&b=2", "/x#frag"]
)
def test_plain_paths_are_followed(target: str) -> None:
    assert safe_next(target) == target.split("#")[0]


@pytest.mark.parametrize(
    "target",
    [
        "//a.example",
        "/%09/a.example",
        "/\\a.example",
        "https://a.example",
        "javascript:x",
        "%2F%2Fa.example",
        "/%252F%252Fa.example",
        "/%ff",
        "/" + "a" * 2001,
        "",
        None,
    ],
)
def test_anything_else_is_not(target: str | None) -> None:
    assert safe_next(target) is None
