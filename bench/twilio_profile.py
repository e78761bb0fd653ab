"""Where one signed Twilio webhook's CPU goes: the web app as ``ivr serve`` builds it (the
Twilio blueprint on ``create_app``), driven through Flask's test client in this thread
(no waitress, no other threads), on a fresh seeded SQLite database; the same requests as
``bench/twilio_load.py``. Prints the CPU per webhook (``time.thread_time``) and, unless
``--no-profile``, the functions with the most cumulative time. The profile slows
everything by a constant factor: read it for shares, not for absolute figures.

``--threads N`` (no profile): N threads, a test client each, as waitress's threads would
be; prints webhooks/s and the process's CPU per webhook. The interpreter lock handed
between them at every call into SQLite costs more CPU than one thread alone spends; with
no load generator or peer in the process, this is steadier than ``twilio_load.py`` on a
busy machine for telling two versions apart.

``--direct``: the app's own CPU, its WSGI callable called with requests built beforehand
(no test client, no server), one thread; with the profile unless ``--no-profile``.

    .venv/bin/python bench/twilio_profile.py [--calls 300] [--top 45] [--sort tottime]
    .venv/bin/python bench/twilio_profile.py --threads 16 --calls 40
    .venv/bin/python bench/twilio_profile.py --direct --no-profile
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import twilio_load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--no-profile", action="store_true", help="CPU per webhook only")
    parser.add_argument("--threads", type=int, default=0, help="calls in N threads each")
    parser.add_argument("--direct", action="store_true", help="the WSGI app called directly")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = twilio_load.hotline_env(Path(folder))
        for step in (("db", "upgrade"), ("seed", "--demo")):
            command = twilio_load.ivr_command(*step)
            subprocess.run(command, env=env, check=True, capture_output=True)
        os.environ.update(env)
        client = _client()
        _calls(client, 20, 10**6)  # imports, caches, the pool
        if args.threads:
            _threaded(client.application, args.threads, args.calls)
            return
        if args.direct:
            _direct(client.application, _environs(2 * 10**6, 20))  # warm this path too
            environs = _environs(0, args.calls)
        profile = None if args.no_profile else cProfile.Profile(time.thread_time)
        started = time.thread_time()
        if profile:
            profile.enable()
        webhooks = (
            _direct(client.application, environs) if args.direct else _calls(client, args.calls, 0)
        )
        if profile:
            profile.disable()
        spent = time.thread_time() - started
    print(f"{webhooks} webhooks, {spent / webhooks * 1000:.3f} ms of CPU each")
    if profile:
        stats = pstats.Stats(profile)
        stats.sort_stats(args.sort).print_stats(args.top)


def _client():  # type: ignore[no-untyped-def]
    from ivr.app.bootstrap import bootstrap
    from ivr.app.channels import phone_channels
    from ivr.app.config import Settings
    from ivr.web import create_app

    hotline = bootstrap(Settings.from_env(), role="serve")
    hotline.use_cases  # noqa: B018
    channels = phone_channels(hotline, None)
    blueprints = [bp for bp in (c.blueprint() for c in channels) if bp is not None]
    return create_app(hotline, blueprints=blueprints).test_client()


def _threaded(app, threads: int, calls: int) -> None:  # type: ignore[no-untyped-def]
    def run(i: int) -> None:
        _calls(app.test_client(), calls, 10**7 * (i + 1))

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    started, cpu = time.perf_counter(), time.process_time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    spent, cpu = time.perf_counter() - started, time.process_time() - cpu
    webhooks = threads * calls * (1 + len(twilio_load.KEYS))
    print(f"{threads} threads: {webhooks / spent:.0f} webhooks/s, ", end="")
    print(f"{cpu / webhooks * 1000:.3f} ms of process CPU each")


def _environs(first: int, calls: int) -> list[dict[str, Any]]:
    """WSGI environs of ``calls`` calls' webhooks, signed, their bodies as bytes."""
    made = []
    for n in range(calls):
        for path, form in twilio_load.walk(f"CA{first + n:032x}"):
            body = urlencode(form).encode()
            route, _, query = path.partition("?")
            made.append({
                "REQUEST_METHOD": "POST", "PATH_INFO": route, "QUERY_STRING": query,
                "SERVER_NAME": "localhost", "SERVER_PORT": "80", "HTTP_HOST": "localhost",
                "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
                "CONTENT_TYPE": "application/x-www-form-urlencoded",
                "CONTENT_LENGTH": str(len(body)), "wsgi.errors": sys.stderr,
                "HTTP_X_TWILIO_SIGNATURE": twilio_load.signed(f"http://localhost{path}", form),
                "body": body,
            })  # fmt: skip
    return made


def _direct(app: Any, environs: list[dict[str, Any]]) -> int:
    """Each request through the WSGI ``app``; how many (each must answer 200)."""
    status: list[str] = []

    def start_response(line: str, headers: Any, exc: Any = None) -> None:
        status.append(line)

    for environ in environs:
        request = {k: v for k, v in environ.items() if k != "body"}
        request["wsgi.input"] = io.BytesIO(environ["body"])
        status.clear()
        body = b"".join(app(request, start_response))
        assert status[0].startswith("200") and b"<Gather" in body, (status, body)
    return len(environs)


def _calls(client, calls: int, first: int) -> int:  # type: ignore[no-untyped-def]
    host = "localhost"
    sent = 0
    for n in range(calls):
        sid = f"CA{first + n:032x}"
        for path, form in twilio_load.walk(sid):
            signature = twilio_load.signed(f"http://{host}{path}", form)
            response = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
            assert response.status_code == 200, response.data
            sent += 1
    return sent


if __name__ == "__main__":
    main()
