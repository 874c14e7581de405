"""The definitions registry over HTTP, on SQLite and PostgreSQL: versions, validation, calls."""

from __future__ import annotations

import json

from tests.integration.api_client import Api

YAML = {"content-type": "application/yaml"}
DOUBLE = """stepwise: 1
name: double
description: Twice the number
input: {type: object, properties: {n: {type: integer}}, required: [n]}
output: '{{ input.n * 2 }}'
steps:
  - {id: a, module: transform.extract, inputs: {n: 1}}
"""
BROKEN = """stepwise: 1
name: broken
steps:
  - {id: a, module: no.such_module}
  - {id: a, module: transform.extract, inputs: {n: 1}}
"""


async def _writer(api: Api) -> dict[str, str]:
    await api.add_user("root", role="admin")
    return await api.token("root")


async def test_an_upload_is_a_version_and_the_same_plan_again_is_that_version(api: Api) -> None:
    headers = await _writer(api)
    first = await api.http.post("/api/v1/definitions", content=DOUBLE, headers=headers | YAML)
    assert first.status_code == 201, first.text
    assert (first.json()["name"], first.json()["version"], first.json()["created"]) == ("double", 1, True)
    # Comments and layout do not change the plan: the same version comes back.
    again = await api.http.post(
        "/api/v1/definitions",
        content="# reformatted\n" + DOUBLE.replace("{id: a,", "{ id: a,"),
        headers=headers | YAML,
    )
    assert again.status_code == 200, again.text
    assert (again.json()["version"], again.json()["created"]) == (1, False)
    changed = await api.http.post(
        "/api/v1/definitions", content=DOUBLE.replace("n * 2", "n * 3"), headers=headers | YAML
    )
    assert changed.status_code == 201, changed.text
    assert changed.json()["version"] == 2
    assert changed.json()["content_hash"] != first.json()["content_hash"]

    latest = (await api.http.get("/api/v1/definitions/double", headers=headers)).json()
    assert latest["version"] == 2
    assert "n * 3" in latest["source"]
    assert latest["plan"]["name"] == "double"
    assert latest["description"] == "Twice the number"
    old = (await api.http.get("/api/v1/definitions/double", params={"version": 1}, headers=headers)).json()
    assert (old["version"], old["source"], old["content_hash"]) == (1, DOUBLE, first.json()["content_hash"])
    versions = (await api.http.get("/api/v1/definitions/double/versions", headers=headers)).json()
    assert [v["version"] for v in versions] == [2, 1]
    listed = (await api.http.get("/api/v1/definitions", headers=headers)).json()
    assert [(d["name"], d["version"]) for d in listed] == [("double", 2)]
    assert (await api.audit_actions(headers)).count("definition.upload") == 3


async def test_a_missing_definition_or_version_is_404(api: Api) -> None:
    headers = await _writer(api)
    await api.http.post("/api/v1/definitions", content=DOUBLE, headers=headers | YAML)
    missing = await api.http.get("/api/v1/definitions/nothing", headers=headers)
    assert missing.status_code == 404
    assert "no definition 'nothing'" in missing.json()["detail"]
    no_version = await api.http.get("/api/v1/definitions/double", params={"version": 7}, headers=headers)
    assert no_version.status_code == 404
    assert "version 7" in no_version.json()["detail"]
    assert (await api.http.get("/api/v1/definitions/nothing/versions", headers=headers)).status_code == 404


async def test_validate_lists_every_problem_at_its_pointer_and_stores_nothing(api: Api) -> None:
    headers = await _writer(api)
    bad = await api.http.post("/api/v1/definitions/validate", content=BROKEN, headers=headers | YAML)
    assert bad.status_code == 422, bad.text
    problems = {(p["pointer"], p["message"]) for p in bad.json()["problems"]}
    pointers = {pointer for pointer, _ in problems}
    assert "/steps/0/module" in pointers
    assert "/steps/1/id" in pointers
    assert bad.json()["detail"].startswith(f"the definition has {len(problems)} problems")
    good = await api.http.post("/api/v1/definitions/validate", content=DOUBLE, headers=headers | YAML)
    assert good.status_code == 200, good.text
    assert good.json()["valid"] is True
    assert good.json()["name"] == "double"
    assert (await api.http.get("/api/v1/definitions", headers=headers)).json() == []


async def test_a_broken_upload_is_refused_with_its_problems_and_nothing_is_stored(api: Api) -> None:
    headers = await _writer(api)
    refused = await api.http.post("/api/v1/definitions", content=BROKEN, headers=headers | YAML)
    assert refused.status_code == 422
    assert any(p["pointer"] == "/steps/0/module" for p in refused.json()["problems"])
    syntax = await api.http.post("/api/v1/definitions", content="name: [unclosed\n", headers=headers | YAML)
    assert syntax.status_code == 422
    (problem,) = syntax.json()["problems"]
    assert problem["line"] is not None
    assert "YAML syntax error" in problem["message"]
    assert (await api.http.get("/api/v1/definitions", headers=headers)).json() == []
    assert "definition.upload" not in await api.audit_actions(headers)


async def test_json_definitions_and_the_content_type_that_says_so(api: Api) -> None:
    headers = await _writer(api)
    as_json = {
        "stepwise": 1,
        "name": "from-json",
        "steps": [{"id": "a", "module": "transform.extract", "inputs": {"n": 1}}],
    }
    stored = await api.http.post("/api/v1/definitions", json=as_json, headers=headers)
    assert stored.status_code == 201, stored.text
    assert stored.json()["format"] == "json"
    detail = (await api.http.get("/api/v1/definitions/from-json", headers=headers)).json()
    assert json.loads(detail["source"]) == as_json
    unknown = await api.http.post(
        "/api/v1/definitions", content=DOUBLE, headers=headers | {"content-type": "application/xml"}
    )
    assert unknown.status_code == 415
    assert "application/yaml" in unknown.json()["detail"]


async def test_calls_must_name_stored_definitions_and_versions(api: Api) -> None:
    headers = await _writer(api)
    parent = "stepwise: 1\nname: parent\nsteps:\n  - {id: sub, call: double, input: {n: 2}}\n"
    missing = await api.http.post("/api/v1/definitions", content=parent, headers=headers | YAML)
    assert missing.status_code == 422
    assert [(p["pointer"], p["message"]) for p in missing.json()["problems"]] == [
        ("/steps/0/call", "definition 'double' is not found")
    ]
    await api.http.post("/api/v1/definitions", content=DOUBLE, headers=headers | YAML)
    assert (
        await api.http.post("/api/v1/definitions", content=parent, headers=headers | YAML)
    ).status_code == 201
    pinned = parent.replace("call: double", "call: double@2")
    refused = await api.http.post("/api/v1/definitions", content=pinned, headers=headers | YAML)
    assert refused.status_code == 422
    assert refused.json()["problems"][0]["message"] == "definition 'double' version 2 is not found"


async def test_uploading_needs_the_definitions_write_scope(api: Api) -> None:
    headers = await _writer(api)
    created = await api.http.post(
        "/api/v1/api-keys", json={"name": "reader", "scopes": ["runs:read"]}, headers=headers
    )
    key = {"X-API-Key": created.json()["key"]}
    refused = await api.http.post("/api/v1/definitions", content=DOUBLE, headers=key | YAML)
    assert refused.status_code == 403
    assert "definitions:write" in refused.json()["detail"]
    assert (await api.http.get("/api/v1/definitions", headers=key)).status_code == 200


async def test_the_openapi_spec_describes_the_definition_body(api: Api) -> None:
    spec = (await api.http.get("/api/openapi.json")).json()
    upload = spec["paths"]["/api/v1/definitions"]["post"]
    assert set(upload["requestBody"]["content"]) == {
        "application/yaml",
        "text/yaml",
        "text/plain",
        "application/json",
    }
    assert "422" in upload["responses"]
    assert "ProblemsPublic" in spec["components"]["schemas"]
