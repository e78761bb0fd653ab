"""The phone systems' webhooks on an app of their own, in front of the console's.

A webhook is signed by its phone system (checked by its blueprint) and is not a browser's:
the console's per-request work does not apply to it: no session cookie to open or save, no
signed-in agent to load, no rate limit to resolve, no error page to render. Profiled, that
work was a third of a signed Twilio gather's. So ``create_app`` mounts the webhook
blueprints here, and ``PhoneRoutes`` sends requests under their URL prefixes to this app,
every other one to the console. The request size limits and the security headers are the
console's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flask import Blueprint, Flask

from ivr.web import headers

#: The console's settings that bound what any request may send.
LIMITS = ("MAX_CONTENT_LENGTH", "MAX_FORM_MEMORY_SIZE", "TESTING")


def phone_app(blueprints: Sequence[Blueprint], console: Mapping[str, Any]) -> Flask:
    """An app serving only ``blueprints``, with no sessions (it has no secret key) and
    the ``console``'s request limits."""
    app = Flask(__name__)
    app.config.from_mapping({name: console[name] for name in LIMITS if name in console})
    headers.register(app)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    return app


def webhook_prefixes(blueprints: Iterable[Blueprint]) -> tuple[str, ...]:
    """The URL prefixes of the blueprints that have one (the phone systems' webhooks),
    each ending in ``/``: what ``PhoneRoutes`` and the web server's lanes route on."""
    return tuple(str(bp.url_prefix).rstrip("/") + "/" for bp in blueprints if bp.url_prefix)


class PhoneRoutes:
    """WSGI: requests under one of ``prefixes`` go to ``phones``, the others to
    ``console``."""

    def __init__(self, console: Any, phones: Any, prefixes: Iterable[str]) -> None:
        self.console, self.phones = console, phones
        self.prefixes = tuple(p.rstrip("/") + "/" for p in prefixes)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path: str = environ.get("PATH_INFO", "")
        if path.startswith(self.prefixes):
            return self.phones(environ, start_response)
        return self.console(environ, start_response)
