"""The web side: the agent console, the supervisor view and the JSON API (Flask).

``create_app(hotline, blueprints=...)`` makes the app for the parts of one hotline
(``WebParts``, from the composition root) and mounts the blueprints the phone systems give
(Twilio's webhooks); it builds nothing else itself. ``ivr serve`` runs it under waitress
(``ivr.app.runner``)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from ivr.web import (
    agent_admin_pages,
    agents_api,
    api,
    auth,
    complaints,
    console,
    csrf,
    errors,
    headers,
    operations,
    reports,
    supervisor,
)
from ivr.web.context import HOTLINE, signed_in
from ivr.web.converters import IdConverter
from ivr.web.guard import EXTENSION as GUARD
from ivr.web.guard import SignInGuard
from ivr.web.labels import register as register_labels
from ivr.web.parts import WebParts, WebSettings
from ivr.web.phone_app import PhoneRoutes, phone_app, webhook_prefixes


def create_app(
    hotline: WebParts,
    test_config: Mapping[str, Any] | None = None,
    blueprints: Sequence[Blueprint] = (),
) -> Flask:
    """The Flask app serving ``hotline``. ``test_config`` overrides Flask settings
    (``TESTING``, ``SECRET_KEY``...). ``blueprints`` are mounted as they are and
    authenticate their own requests (a phone system's webhooks): the console's sign-in
    and CSRF token do not apply to them."""
    app = Flask(__name__)
    app.config.from_mapping(
        SESSION_COOKIE_NAME="ivr_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=hotline.settings.cookies_secure,
        MAX_CONTENT_LENGTH=64 * 1024,
        MAX_FORM_MEMORY_SIZE=64 * 1024,
        RATELIMIT_STORAGE_URI=hotline.settings.ratelimit_storage_uri,
        RATELIMIT_STRATEGY="moving-window",
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = session_key(hotline.settings)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # 中文 as itself, in UTF-8
    app.json.sort_keys = False  # type: ignore[attr-defined]  # queues in their order
    app.extensions[HOTLINE] = hotline
    # The phone systems' webhooks and the operations endpoints need no sign-in.
    unsigned = (*blueprints, operations.bp)
    app.extensions[auth.SELF_AUTHENTICATED] = frozenset(bp.name for bp in unsigned)
    app.url_map.converters["id"] = IdConverter
    limiter = Limiter(get_remote_address, app=app)
    limiter.exempt(operations.bp)  # scraped every few seconds: never limited
    # A phone system's webhooks carry no limit (each is signed): the limiter is not even
    # asked (resolving that nothing applies cost a third of the app's own per-request work).
    phones = frozenset(bp.name for bp in blueprints)
    limiter.request_filter(lambda: request.blueprint in phones)
    app.extensions[GUARD] = SignInGuard(limiter)
    errors.register(app)
    headers.register(app)
    register_labels(app)
    app.context_processor(lambda: {"csrf_token": csrf.token, "me": signed_in()})
    for blueprint in (
        auth.bp,
        console.bp,
        supervisor.bp,
        agent_admin_pages.bp,
        reports.bp,
        complaints.bp,
        api.bp,
        agents_api.bp,
        complaints.api_bp,
        operations.bp,
        *(bp for bp in blueprints if not bp.url_prefix),
    ):
        app.register_blueprint(blueprint)
    # The webhooks under a prefix skip the console's per-request work (ivr.web.phone_app)
    prefixed = [bp for bp in blueprints if bp.url_prefix]
    if prefixed:
        webhooks = phone_app(prefixed, app.config)
        prefixes = webhook_prefixes(prefixed)
        app.wsgi_app = PhoneRoutes(app.wsgi_app, webhooks.wsgi_app, prefixes)  # type: ignore[method-assign]
    return app


def session_key(settings: WebSettings) -> bytes:
    """The key that signs session cookies: derived from the hotline's secret key, so it is
    never the key callback codes are made with."""
    return hmac.new(settings.secret(), b"ivr-web-session", hashlib.sha256).digest()
