"""`ivr fastagi --listen HOST:PORT`."""

from __future__ import annotations

import pytest

from ivr.app.cli_serve import host_port
from ivr.errors import IvrError


@pytest.mark.parametrize("text", ["4573", "127.0.0.1", "127.0.0.1:http", "host:70000", ":4573"])
def test_listen_address_must_be_host_and_port(text: str) -> None:
    with pytest.raises(IvrError, match="HOST:PORT"):
        host_port(text)


def test_listen_address_parses() -> None:
    assert host_port("127.0.0.1:4573") == ("127.0.0.1", 4573)
    assert host_port("[::1]:4573") == ("::1", 4573)
