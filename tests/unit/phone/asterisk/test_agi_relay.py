"""The relay's pure parts: where it looks for the controller, the FastAGI environment it
makes of Asterisk's (the script the server routes to is the one the per-call script would
have run), its limits (the FastAGI server's) and how little it imports."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from agi_fake import environment

from ivr.phone.asterisk import agi_protocol, agi_relay, agi_stdio
from ivr.phone.asterisk.agi_relay import Refused, fastagi_environment, network_script
from ivr.phone.asterisk.routes import ROUTES, request

ROOT = Path(__file__).resolve().parents[4]
LINE = agi_relay.MAX_LINE_BYTES
TOO_BIG = f"an AGI environment of over {agi_relay.MAX_ENVIRONMENT_BYTES} bytes"


def relayed(*args: str) -> agi_protocol.AgiEnvironment:
    """What the FastAGI server reads of a per-call environment with ``args``."""
    plain = [line for line in environment() if not line.startswith("agi_arg_")]
    numbered = [f"agi_arg_{n}: {arg}" for n, arg in enumerate(args, 1)]
    lines = [f"{line}\n".encode() for line in plain + numbered]
    text = fastagi_environment(lines).decode()
    assert text.endswith("\n\n")
    return agi_protocol.parse_environment(text.splitlines()[:-1])


def per_call(*args: str) -> agi_protocol.AgiEnvironment:
    plain = [line for line in environment() if not line.startswith("agi_arg_")]
    return agi_protocol.parse_environment(
        plain + [f"agi_arg_{n}: {arg}" for n, arg in enumerate(args, 1)]
    )


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("hotline",),
        ("callback", "id=7"),
        ("callback-failed", "id=12", "reason=NO ANSWER"),
        ("answered", "entry=3", "not a pair", "x=a&b=c%20?#"),
        ("callback", "id=7", "id=8"),
        ("billing", "名=值"),
    ],
)
def test_the_server_routes_a_relayed_call_as_the_script_would_have(args: tuple[str, ...]) -> None:
    env = relayed(*args)
    assert env.network
    assert request(env) == request(per_call(*args))


@pytest.mark.parametrize("name", ["billing?id=1", "", "callback/", "/callback", "客服", "a b"])
def test_a_name_that_is_no_script_is_none_relayed_either(name: str) -> None:
    script, args = request(relayed(name, "id=7"))
    assert script not in ROUTES and request(per_call(name))[0] not in ROUTES
    assert args == {"id": "7"}


def test_the_fastagi_environment_leads_with_agi_network_and_keeps_asterisks_lines() -> None:
    lines = [b"agi_request: /x/hotline.agi\n", b"agi_network: no\n", b"agi_uniqueid: 1.2\n"]
    assert fastagi_environment(lines) == (
        b"agi_network: yes\nagi_network_script: hotline\n"
        b"agi_request: /x/hotline.agi\nagi_uniqueid: 1.2\n\n"
    )
    assert network_script(["callback", "id=7"]) == "callback?id=7"


def read(data: bytes) -> tuple[list[bytes], bytes]:
    with tempfile.TemporaryFile() as stdin:
        stdin.write(data)
        stdin.seek(0)
        return agi_relay.read_environment(stdin.fileno())


def test_the_environment_is_read_through_its_blank_line_and_the_rest_kept() -> None:
    lines, rest = read(b"agi_request: a\nagi_uniqueid: 1\n\n200 result=0\n")
    assert lines == [b"agi_request: a\n", b"agi_uniqueid: 1\n"]
    assert rest == b"200 result=0\n"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"agi_request: a\n", "stdin line 2: the AGI environment ended before its blank line"),
        (b"agi_request: a\n\x89PNG\r\n\n", "stdin line 2: not an AGI environment line"),
        (b"1agi: a\n\n", "stdin line 1: not an AGI environment line"),
        (b"a" * 100_000, f"stdin line 1: a line of over {LINE} bytes"),
        (b"k: " + b"v" * 9000 + b"\n\n", f"stdin line 1: a line of over {LINE} bytes"),
        (b"k: v\n" * 600 + b"\n", "stdin line 513: the AGI environment does not end"),
        ((b"k: " + b"v" * 8000 + b"\n") * 9 + b"\n", f"stdin line 9: {TOO_BIG}"),
    ],
)
def test_what_is_not_an_environment_is_refused_saying_where_not_what(data: bytes, why: str) -> None:
    with pytest.raises(Refused) as refused:
        read(data)
    assert str(refused.value) == why


def test_its_limits_and_exit_statuses_are_the_servers_and_the_scripts() -> None:
    assert agi_relay.MAX_LINE_BYTES == agi_protocol.MAX_LINE_BYTES
    assert agi_relay.MAX_ENVIRONMENT_BYTES == agi_protocol.MAX_ENVIRONMENT_BYTES
    assert agi_relay.MAX_ENVIRONMENT_LINES == agi_protocol.MAX_ENVIRONMENT_LINES
    assert (agi_relay.HANDLED, agi_relay.BAD_INPUT, agi_relay.FAILED) == (
        agi_stdio.HANDLED,
        agi_stdio.BAD_INPUT,
        agi_stdio.FAILED,
    )


def test_the_controller_is_found_where_the_servers_listen_by_default() -> None:
    assert agi_relay.controller({}) == ("127.0.0.1", 4573)
    assert agi_relay.controller({"IVR_FASTAGI_HOST": "::1", "IVR_FASTAGI_PORT": "4600"}) == (
        "::1",
        4600,
    )
    assert agi_relay.controller({"IVR_FASTAGI_PORT": "off"}) is None


def test_a_port_that_is_not_one_runs_the_call_in_process_saying_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert agi_relay.controller({"IVR_FASTAGI_PORT": "70000"}) is None
    assert "IVR_FASTAGI_PORT must be a port number or off" in capsys.readouterr().err


def test_the_relay_imports_nothing_of_the_engine() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); before = set(sys.modules)\n"
        "from ivr.phone.asterisk.agi_relay import _socket, connect\n"
        "closed = _socket.socket(); closed.bind(('127.0.0.1', 0))  # not listening\n"
        "assert connect(('127.0.0.1', closed.getsockname()[1])) is None\n"
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", code, str(ROOT)], capture_output=True, text=True, check=True
    )
    loaded = set(done.stdout.split())
    ours = {name for name in loaded if name.split(".")[0] == "ivr"}
    assert ours == {"ivr", "ivr.phone", "ivr.phone.asterisk", "ivr.phone.asterisk.agi_relay"}
    heavy = {"sqlalchemy", "logging", "asterisk", "yaml", "typing", "re", "urllib", "stringprep"}
    heavy |= {"enum", "functools", "collections", "selectors", "socket", "signal"}
    assert not {name.split(".")[0] for name in loaded} & heavy, sorted(loaded)
    assert "encodings.idna" not in loaded


def test_a_controller_that_does_not_answer_in_time_runs_the_call_in_process() -> None:
    """A listener whose queue is full drops the next connection's handshake: the relay
    gives up after its connect timeout and the script runs the call itself."""
    import socket
    import time

    from ivr.phone.asterisk import agi_relay

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)  # never accepted: the queue fills with the first connections
        address = listener.getsockname()
        fillers = []
        try:
            for _ in range(4):
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(address)
                fillers.append(filler)
            time.sleep(0.1)
            began = time.monotonic()
            assert agi_relay.connect(address, timeout=0.2) is None
            waited = time.monotonic() - began
            assert 0.15 <= waited < 2.0  # its timeout ran out: not refused, not stuck
        finally:
            for filler in fillers:
                filler.close()
