"""Every public route is in each service's OpenAPI document, with a summary and examples."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from chiso_gateway.main import create_app as gateway_app
from chiso_indicators.main import create_app as indicators_app
from chiso_ingest.main import create_app as ingest_app

APPS: dict[str, Callable[[], FastAPI]] = {
    "gateway": gateway_app,
    "ingest": ingest_app,
    "indicators": indicators_app,
}


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    spec = app.openapi()
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


@pytest.mark.parametrize("service", APPS)
def test_every_operation_is_documented(service: str) -> None:
    app = APPS[service]()
    found = operations(app)
    assert found
    for path, method, operation in found:
        assert operation.get("summary"), f"{method.upper()} {path} has no summary"
        assert any(code in operation["responses"] for code in ("200", "201", "202", "204")), (
            f"{method.upper()} {path} documents no success response"
        )


def test_examples_reach_the_schemas() -> None:
    spec = indicators_app().openapi()
    schemas = spec["components"]["schemas"]
    assert schemas["FactBatch"].get("examples")
    assert schemas["Fact"].get("examples")
    gateway = gateway_app().openapi()
    series = gateway["paths"]["/v1/indicators/{code}/series"]["get"]
    names = {parameter["name"]: parameter for parameter in series["parameters"]}
    assert {"area", "from", "to"} <= set(names)
    assert names["area"]["schema"].get("examples") or names["area"].get("examples")


def _has_example(node: Any, schemas: dict[str, Any], depth: int = 0) -> bool:
    if depth > 8:
        return False
    if isinstance(node, dict):
        if "example" in node or "examples" in node:
            return True
        if "$ref" in node:
            return _has_example(
                schemas.get(node["$ref"].rsplit("/", 1)[-1], {}), schemas, depth + 1
            )
        return any(_has_example(value, schemas, depth) for value in node.values())
    if isinstance(node, list):
        return any(_has_example(value, schemas, depth) for value in node)
    return False


def _empty(response: dict[str, Any]) -> bool:
    """A success documented with no body at all (RFC 7009's 200 for a revocation)."""
    return response.get("content") == {}


@pytest.mark.parametrize("service", APPS)
def test_every_success_response_has_an_example(service: str) -> None:
    spec = APPS[service]().openapi()
    schemas = spec.get("components", {}).get("schemas", {})
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in operations(APPS[service]())
        if not any(
            _has_example(operation["responses"].get(code, {}), schemas)
            for code in ("200", "201", "202", "204")
        )
        and "204" not in operation["responses"]
        and not _empty(operation["responses"].get("200", {}))
    ]
    assert not missing, f"no example of the success response: {missing}"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    """The node a local JSON pointer (`#/components/schemas/X`) names, KeyError if none."""
    assert ref.startswith("#/"), f"not a local reference: {ref}"
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@pytest.mark.parametrize("service", APPS)
def test_every_reference_resolves(service: str) -> None:
    spec = APPS[service]().openapi()
    refs = _refs(spec)
    assert refs
    dangling = []
    for ref in sorted(set(refs)):
        try:
            _resolve(spec, ref)
        except (KeyError, TypeError):
            dangling.append(ref)
    assert not dangling, f"{service}: $ref to nothing: {dangling}"


PROBLEM_REF = "#/components/schemas/Problem"
# The one error answer that is not a problem: /readyz's 503 names the checks that failed.
NOT_PROBLEMS = {("/readyz", "503")}


def web_message(path: str, status: str, content: dict[str, Any]) -> bool:
    """A DHIS2 route's own error, documented as DHIS2's WebMessage (application/json), maybe
    beside a problem (the NUL guard's 400, which answers before any route)."""
    body = content.get("application/json", {})
    schema = body.get("schema", {})
    shaped = schema.get("$ref", "").endswith("/WebMessage") or schema.get("title") == "WebMessage"
    others = set(content) - {"application/json"}
    beside = content.get("application/problem+json", {}).get("schema") == {"$ref": PROBLEM_REF}
    return (
        path.startswith("/dhis2/")
        and shaped
        and body["example"]["httpStatusCode"] == int(status)
        and (not others or (others == {"application/problem+json"} and beside))
    )


@pytest.mark.asyncio
@pytest.mark.parametrize("service", APPS)
async def test_error_responses_are_documented_as_problem_json(service: str) -> None:
    """Errors are served as application/problem+json with the Problem body, and documented so
    (FastAPI's own 422 says application/json and a body chiso never sends)."""
    transport = httpx.ASGITransport(app=APPS[service]())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        spec = (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert {"Problem", "FieldError"} <= set(schemas)
    wrong = []
    seen_422 = 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if not status.startswith(("4", "5")) or (path, status) in NOT_PROBLEMS:
                    continue
                seen_422 += status == "422"
                content = response.get("content", {})
                if web_message(path, status, content):
                    continue
                body = content.get("application/problem+json", {})
                if list(content) != ["application/problem+json"] or (
                    body.get("schema") != {"$ref": PROBLEM_REF}
                ):
                    wrong.append(f"{method.upper()} {path} {status}: {content}")
                elif body["example"]["status"] != int(status):
                    wrong.append(f"{method.upper()} {path} {status}: example {body['example']}")
    assert seen_422
    assert not wrong, "\n".join(wrong)


# What a generated name leaks: a generic's parameters (`Envelope[dict[str, Any]]`, which
# FastAPI writes `Envelope_dict_str__Any__`, or `Page_ObservationOut_`) and FastAPI's form
# bodies (`Body_token_oauth2_token_post`). A name of the domain is one CamelCase word.
LEAKS = ("[", "Body_", "dict", "Any", "__")
DOMAIN_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")


@pytest.mark.parametrize("service", APPS)
def test_schema_names_read_as_the_domain(service: str) -> None:
    schemas = APPS[service]().openapi()["components"]["schemas"]
    leaked = [
        f"{name} (title {schema.get('title')!r})"
        for name, schema in schemas.items()
        if not DOMAIN_NAME.match(name)
        or any(leak in name or leak in str(schema.get("title", "")) for leak in LEAKS)
    ]
    assert not leaked, f"{service}: generated schema names: {leaked}"
