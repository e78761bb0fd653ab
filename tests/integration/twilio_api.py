"""A local HTTP server standing in for Twilio's REST API (``IVR_TWILIO_API_BASE``): it
records every request and answers with what the test queued, else a created resource."""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    form: dict[str, list[str]]
    user: str | None

    def field(self, name: str) -> str:
        (value,) = self.form[name]
        return value


class TwilioStandIn:
    def __init__(self, delay: float = 0.0) -> None:
        self.requests: list[Recorded] = []
        self.answers: list[tuple[int, dict[str, Any]]] = []
        self.delay = delay
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail(self, status: int, message: str, times: int = 1, code: int = 20500) -> None:
        """Answer the next ``times`` requests with this error."""
        body = {"code": code, "message": message, "status": status, "more_info": ""}
        self.answers.extend([(status, body)] * times)

    def _answer(self, recorded: Recorded) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append(recorded)
            if self.answers:
                return self.answers.pop(0)
            prefix = "SM" if recorded.path.endswith("/Messages.json") else "CA"
            return 201, {"sid": f"{prefix}{len(self.requests):032x}", "status": "queued"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                auth = self.headers.get("Authorization", "")
                user = None
                if auth.startswith("Basic "):
                    user = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
                time.sleep(stand_in.delay)
                status, body = stand_in._answer(Recorded("POST", self.path, form, user))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> TwilioStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
