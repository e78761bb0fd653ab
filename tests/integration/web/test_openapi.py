"""``GET /api/openapi.json``: the API's OpenAPI 3.1 document, served without a sign-in,
valid (openapi-spec-validator), and held to the app's own routes both ways: every ``/api/``
rule (with its methods) is documented, and every documented path and method is served.
A route added without its description fails here, by name."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from integration.web_client import Web, basic
from ivr.app.bootstrap import Components
from ivr.web import openapi

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def web(hotline: Components) -> Web:
    return Web(hotline)


def served(web: Web) -> set[tuple[str, str]]:
    """(OpenAPI path, method) for every /api/ rule: ``<id:entry_id>`` -> ``{entry_id}``."""
    out = set()
    for rule in web.app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") and rule.rule != "/api":
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule).rstrip("/") or "/"
        for method in rule.methods or ():
            if method.lower() in METHODS:
                out.add((path, method.lower()))
    return out


def documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def test_the_document_is_served_without_a_sign_in(web: Web) -> None:
    response = web.client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == openapi.document()
    assert response.json["openapi"] == "3.1.0"


def test_only_the_document_is_public_every_other_endpoint_still_asks(web: Web) -> None:
    for path in ("/api/me", "/api/queue", "/api/complaints", "/api/agents"):
        response = web.client.get(path)
        assert response.status_code == 401, path
    assert web.client.get("/api/openapi.jsonx").status_code == 404
    response = web.client.post("/api/openapi.json")
    assert response.status_code == 405  # a GET only, and still JSON
    assert response.json is not None and response.json["error"] == "method_not_allowed"


def test_the_document_is_a_valid_openapi_3_1_document() -> None:
    validate(openapi.document())


def test_a_broken_document_is_refused_by_the_validator() -> None:
    """The check can fail: a parameter in no place, a dangling $ref."""
    broken = openapi.document()
    broken["paths"]["/api/callbacks/{callback_id}/call"]["parameters"][0]["in"] = "body"
    with pytest.raises(OpenAPIValidationError):
        validate(broken)
    dangling = openapi.document()
    dangling["paths"]["/api/me"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ] = {"$ref": "#/components/schemas/Nobody"}
    with pytest.raises(Exception, match="Nobody"):
        validate(dangling)


def test_every_api_route_is_documented(web: Web) -> None:
    missing = served(web) - documented(openapi.document())
    assert not missing, f"served but not in ivr/web/openapi.py: {sorted(missing)}"


def test_every_documented_operation_is_served(web: Web) -> None:
    stale = documented(openapi.document()) - served(web)
    assert not stale, f"in ivr/web/openapi.py but not served: {sorted(stale)}"


def test_the_path_parameters_match_the_rules(web: Web) -> None:
    document = openapi.document()
    for path, item in document["paths"].items():
        named = set(re.findall(r"{([^}]+)}", path))
        declared = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
        assert named == declared, path


def test_answers_have_the_documented_shape(web: Web) -> None:
    """One real answer per shape, checked against the document's own schema."""
    from jsonschema import Draft202012Validator

    document = openapi.document()
    schemas = document["components"]["schemas"]

    def check(path: str, body: Any) -> None:
        schema = document["paths"][path]["get"]["responses"]["200"]["content"]
        schema = schema["application/json"]["schema"]
        # The document's own $refs (#/components/schemas/X) resolve in this wrapper.
        wrapped = {**schema, "components": {"schemas": schemas}}
        Draft202012Validator(wrapped).validate(body)

    me = web.client.get("/api/me", headers=basic("sam"))
    check("/api/me", me.json)
    check("/api/agents", web.client.get("/api/agents", headers=basic("sam")).json)
    check("/api/queue", web.client.get("/api/queue", headers=basic("sam")).json)
    check("/api/stats", web.client.get("/api/stats", headers=basic("sam")).json)
    check("/api/desk", web.client.get("/api/desk", headers=basic("sam")).json)
    check("/api/complaints", web.client.get("/api/complaints", headers=basic("sam")).json)
    error = web.client.get("/api/me", headers=basic("sam", "wrong")).json
    Draft202012Validator(schemas["Error"]).validate(error)


def test_the_supervisors_changes_answer_in_the_documented_shape(web: Web) -> None:
    """Creating an agent (201, a generated password once) and pausing one, checked
    against the document's own schemas."""
    from jsonschema import Draft202012Validator

    document = openapi.document()
    schemas = document["components"]["schemas"]

    def check(path: str, status: str, body: Any) -> None:
        answer = document["paths"][path]["post"]["responses"][status]["content"]
        schema = {**answer["application/json"]["schema"], "components": {"schemas": schemas}}
        Draft202012Validator(schema).validate(body)

    new = {
        "username": "dana",
        "name": "Dana Lee",
        "role": "agent",
        "skills": ["general"],
        "languages": ["en"],
        "endpoint": "agent-dana",
    }
    made = web.client.post("/api/agents", json=new, headers=basic("sam"))
    assert made.status_code == 201, made.json
    check("/api/agents", "201", made.json)
    assert made.json["password"]  # generated: answered this once
    agent_id = made.json["agent"]["id"]
    paused = web.client.post(
        f"/api/agents/{agent_id}/pause", json={"reason": "training"}, headers=basic("sam")
    )
    assert paused.status_code == 200, paused.json
    check("/api/agents/{agent_id}/pause", "200", paused.json)
    assert paused.json["agent"]["pause_reason"] == "training"
