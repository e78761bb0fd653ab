"""Signed Twilio webhooks against ``ivr serve`` (one process, waitress), beside a minimal
Flask app under waitress answering fixed TwiML, measured in the same run.

The hotline runs as ``ivr serve --no-fastagi`` on an SQLite database in a temporary
folder (upgraded, demo seeded), the peer as a Flask app with one route; each is its own
process, and so is the load: ``--clients`` keep-alive connections, one thread each, post
correctly signed webhooks for ``--seconds``. Each call is the voice webhook, then the
caller's digits walking the menu (English, repeat the menu, payments, an account number,
then a timeout at the PIN question); the peer gets the same requests. At the end each
client sends one forged gather, which must be refused (403).

    .venv/bin/python bench/twilio_load.py [--seconds 10] [--clients 20]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import Figure, show  # noqa: E402

TOKEN = "bench-twilio-auth-token"
#: The caller's keys after the voice webhook, one gather each; None: the gather timed out.
KEYS: tuple[str | None, ...] = ("1", "*", "2", "12345678", None)
#: What the peer answers every webhook with (a reply of the hotline's size and shape).
PEER_REPLY = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/twilio/gather?step=1" '
    'actionOnEmptyResult="false" finishOnKey="" input="dtmf" method="POST" numDigits="1" '
    'timeout="6"><Say language="en-US" voice="Polly.Joanna">For payments, press 2. For '
    'anything else, press 0.</Say></Gather><Redirect method="POST">'
    "/twilio/gather?step=1&amp;timeout=1</Redirect></Response>"
)
WARM_UP = 2.0  # seconds of load before the measured window


# -- the two servers -----------------------------------------------------------------------


def ivr_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "ivr"), *args]


def hotline_env(folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "IVR_FLOW": str(ROOT / "callflows.yaml"),
        "IVR_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        "IVR_TWILIO_AUTH_TOKEN": TOKEN,
        "IVR_SECRET_KEY": "bench-secret-key-" + "k" * 32,
        "IVR_PEPPER": "bench-pepper-" + "p" * 32,
        "IVR_SPOOL_DIR": str(folder / "spool"),
        "IVR_RECORDINGS_DIR": str(folder / "recordings"),
        "IVR_LOG_LEVEL": "WARNING",
    }


def start_hotline(folder: Path) -> tuple[subprocess.Popen[str], int]:
    """``ivr serve`` on a fresh seeded SQLite database; its process and web port."""
    env = hotline_env(folder)
    for step in (("db", "upgrade"), ("seed", "--demo")):
        subprocess.run(ivr_command(*step), env=env, check=True, capture_output=True)
    serve = ivr_command("serve", "--host", "127.0.0.1", "--port", "0", "--no-fastagi")
    log = (folder / "serve.log").open("w")  # its warnings (the forged webhooks refused)
    return _started(subprocess.Popen(serve, env=env, stdout=subprocess.PIPE, stderr=log, text=True))


def start_peer() -> tuple[subprocess.Popen[str], int]:
    """The minimal Flask app under waitress (this file with ``--peer``)."""
    command = [sys.executable, __file__, "--peer"]
    quiet = subprocess.DEVNULL  # waitress's queue warnings
    return _started(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=quiet, text=True))


def _started(process: subprocess.Popen[str]) -> tuple[subprocess.Popen[str], int]:
    """The port a server prints as ``...http://127.0.0.1:PORT/...`` once it listens."""
    assert process.stdout is not None
    for line in process.stdout:
        if "http://127.0.0.1:" in line:
            port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
            threading.Thread(target=process.stdout.read, daemon=True).start()  # drain
            return process, port
    raise RuntimeError(f"the server exited ({process.wait()}) before listening")


def serve_peer() -> None:
    from flask import Flask, Response
    from waitress.server import create_server

    sys.path.insert(0, str(ROOT))
    from ivr.app.config import WEB_THREADS

    app = Flask("peer")

    @app.post("/twilio/<kind>")
    def webhook(kind: str) -> Response:
        return Response(PEER_REPLY, mimetype="application/xml")

    server = create_server(app, host="127.0.0.1", port=0, threads=WEB_THREADS)
    print(f"peer on http://127.0.0.1:{server.effective_port}/", flush=True)  # type: ignore[union-attr]
    server.run()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the load --------------------------------------------------------------------------------


def signed(url: str, form: dict[str, str], token: str = TOKEN) -> str:
    """``X-Twilio-Signature`` for a POST of ``form`` to ``url`` (Twilio's scheme)."""
    text = url + "".join(k + form[k] for k in sorted(form))
    mac = hmac.new(token.encode(), text.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def walk(sid: str) -> Iterator[tuple[str, dict[str, str]]]:
    """One call's webhooks: (path and query, form)."""
    call = {"CallSid": sid, "From": "+15550001111", "To": "+8610000000"}
    yield "/twilio/voice", call
    for step, keys in enumerate(KEYS, start=1):
        if keys is None:
            yield f"/twilio/gather?{urlencode({'step': step, 'timeout': 1})}", call
        else:
            yield f"/twilio/gather?step={step}", {**call, "Digits": keys}


class Connection:
    """One keep-alive HTTP/1.1 connection posting forms (a small client: the load
    generator must not be the bottleneck)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.host = f"127.0.0.1:{port}"
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def post(self, path: str, form: dict[str, str], token: str = TOKEN) -> tuple[int, bytes]:
        body = urlencode(form).encode()
        signature = signed(f"http://{self.host}{path}", form, token)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nX-Twilio-Signature: {signature}\r\n\r\n"
        )
        self.sock.sendall(head.encode() + body)
        return self._response()

    def _response(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._more()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(self.buffer) < length:
            self._more()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, body

    def _more(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk


@dataclass
class Tally:
    """One client's requests in the measured window."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0  # not 200, or a reply without the next <Gather>
    forged: int = 0  # forged webhooks sent
    refused: int = 0  # ... and refused (403)


def client(port: int, index: int, start: float, end: float) -> Tally:
    tally = Tally()
    connection = Connection(port)
    calls = 0
    sid = ""
    while time.perf_counter() < end:
        sid = f"CA{os.getpid():08x}{index:04x}{calls:020x}"  # new calls in every load
        calls += 1
        for path, form in walk(sid):
            began = time.perf_counter()
            try:
                status, body = connection.post(path, form)
            except OSError:
                status, body = 0, b""
                connection = Connection(port)
            done = time.perf_counter()
            if began >= start and done <= end:
                tally.latencies.append(done - began)
                if status != 200 or b"<Gather" not in body:
                    tally.errors += 1
            if done > end:
                break
    forged = {"CallSid": sid, "From": "+15550001111", "To": "+8610000000", "Digits": "0"}
    status, _ = connection.post("/twilio/gather?step=99", forged, token="not-the-token")
    tally.forged, tally.refused = 1, int(status == 403)
    return tally


def load(port: int, clients: int, seconds: float) -> list[Tally]:
    """Runs in its own process: ``clients`` threads for ``WARM_UP + seconds``."""
    start = time.perf_counter() + WARM_UP
    end = start + seconds
    tallies: list[Tally] = [Tally() for _ in range(clients)]

    def run(i: int) -> None:
        tallies[i] = client(port, i, start, end)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tallies


@dataclass(frozen=True)
class Measured:
    rate: float  # requests/s
    p99: float  # seconds
    errors: int
    forged: int
    refused: int
    cpu_per_request: float  # the server's CPU seconds per request


def measure(pid: int, port: int, clients: int, seconds: float) -> Measured:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        cpu = cpu_seconds(pid)
        tallies = pool.submit(load, port, clients, seconds).result()
        cpu = cpu_seconds(pid) - cpu
    latencies = sorted(t for tally in tallies for t in tally.latencies)
    count = len(latencies)
    p99 = latencies[min(count - 1, int(count * 0.99))] if count else float("inf")
    return Measured(
        rate=count / seconds,
        p99=p99,
        errors=sum(t.errors for t in tallies),
        forged=sum(t.forged for t in tallies),
        refused=sum(t.refused for t in tallies),
        # the whole run's CPU (warm-up included) over the measured requests: an upper bound
        cpu_per_request=cpu / max(count, 1) * seconds / (seconds + WARM_UP),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--peer", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        serve_peer()
        return

    with tempfile.TemporaryDirectory() as folder:
        servers = [start_peer(), start_hotline(Path(folder))]
        try:
            (peer_process, peer_port), (ours_process, ours_port) = servers
            peer = measure(peer_process.pid, peer_port, args.clients, args.seconds)
            ours = measure(ours_process.pid, ours_port, args.clients, args.seconds)
        finally:
            for process, _ in servers:
                process.terminate()
                process.wait(30)
        if ours.errors:
            print((Path(folder) / "serve.log").read_text()[-3000:], file=sys.stderr)

    show(
        f"Twilio webhooks, {args.clients} clients, one process",
        [
            Figure("requests/s", ours.rate, peer.rate, "/s", want=">= 0.3"),
            Figure("p99 per webhook", ours.p99, peer.p99, "s", limit="<= 0.05"),
            Figure("server CPU per webhook", ours.cpu_per_request, peer.cpu_per_request, "s"),
            Figure("errors (not 200, or no next <Gather>)", ours.errors, peer.errors, limit="<= 0"),
            Figure("forged webhooks accepted", ours.forged - ours.refused, limit="<= 0"),
        ],
        peer="a minimal Flask app under waitress answering fixed TwiML, same requests",
    )


if __name__ == "__main__":
    main()
