"""The pieces the OpenAPI document (``ivr.web.openapi``) is made of: an operation with its
answers and the errors every authenticated endpoint may give, JSON bodies, path ids."""

from __future__ import annotations

from typing import Any

from ivr.web.openapi_shapes import Schema, ref

#: Statuses every authenticated endpoint may answer besides its own.
COMMON = {
    "401": "no or wrong credentials",
    "403": "missing or wrong X-CSRF-Token (a session's POST), or supervisors only",
    "429": "too many failed sign-ins for this username or from this address",
    "503": "every password-check slot is busy; try again after Retry-After",
}


def json_body(schema: Schema, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error(description: str) -> dict[str, Any]:
    return json_body(ref("Error"), description)


def body(**properties: Schema) -> Schema:
    return {"type": "object", "properties": properties, "required": sorted(properties)}


def listed(item: str) -> Schema:
    return {"type": "array", "items": ref(item)}


def operation(
    summary: str,
    answer: Schema,
    errors: dict[str, str] | None = None,
    request: Schema | None = None,
    supervisors: bool = False,
    status: str = "200",
    optional_body: bool = False,
) -> dict[str, Any]:
    responses = {status: json_body(answer)}
    for status, why in {**COMMON, **(errors or {})}.items():
        responses[status] = error(why)
    operation: dict[str, Any] = {
        "summary": summary + (" (supervisors)" if supervisors else ""),
        "responses": responses,
    }
    if request is not None:
        operation["requestBody"] = {
            "required": not optional_body,
            "content": {"application/json": {"schema": request}},
        }
    return operation


def path_id(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
        "description": "anything else is 404",
    }
