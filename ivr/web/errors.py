"""Refusals a request can meet, and how each area shows them: the JSON API answers
``{"error": ..., "message": ..., "where": ...}`` with the status; pages show a short page."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from ivr.errors import IvrError

#: status -> the short word the API puts in ``error``.
WORDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "refused",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    500: "internal_error",
    503: "busy",
}


@dataclass
class WebError(IvrError):
    """A request the product refuses: ``status`` (400, 401, 403, 404, 409, 429, 503), a
    message a person can act on, for bad input ``where`` the bad value was (a field name),
    and for 429 and 503 the seconds after which to try again."""

    status: int
    message: str
    where: str | None = None
    retry_after: int | None = None

    def __str__(self) -> str:
        return self.message


def bad_input(message: str, where: str) -> WebError:
    return WebError(400, message, where)


def is_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def api_error(status: int, message: str, where: str | None = None) -> Response:
    body: dict[str, object] = {"error": WORDS.get(status, "error"), "message": message}
    if where is not None:
        body["where"] = where
    response = jsonify(body)
    response.status_code = status
    if status == 401 and request.authorization is not None:
        # Only a client that sent Basic credentials is challenged for them: a browser that
        # has never been asked keeps no Basic credentials to send on a forged request.
        response.headers["WWW-Authenticate"] = 'Basic realm="ivr", charset="UTF-8"'
    return response


def register(app: Flask) -> None:
    @app.errorhandler(WebError)
    def refused(exc: WebError) -> Response | tuple[str, int, dict[str, str]]:
        headers = {} if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
        if is_api():
            response = api_error(exc.status, exc.message, exc.where)
            response.headers.update(headers)
            return response
        page = render_template("error.html", status=exc.status, message=exc.message)
        return page, exc.status, headers

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response | tuple[str, int]:
        status = exc.code or 500
        message = exc.description or exc.name
        if is_api():
            return api_error(status, message)
        return render_template("error.html", status=status, message=message), status
