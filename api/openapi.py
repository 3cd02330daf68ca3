"""The error responses each operation declares in `/openapi.json`, derived in one place.

A route's decorator says what is particular to it (`responses={409: ...}` with the codes it
answers); what follows from what a route depends on is added here, so it cannot be forgotten on
a new route and does not depend on how the auth dependency is spelled:

- the bearer scheme (an `HTTPBearer` anywhere in the route's dependency tree): 401, 403 and 429
  (failed authentications per address, api/edge/auth_failures.py), and 503
  `database_unavailable` (the key is looked up in the database);
- the database (`get_session`, `get_db`): 503 `database_unavailable`;
- the Temporal client (`get_temporal`): 503 `temporal_unavailable`, and for a write 409 (the
  workflow's update validator refuses what its state does not allow);
- a path parameter: 404 (it names a resource), except on PUT, which creates at the path;
- a request body: 413 (the body limit) and 422;

and every 4xx/5xx is the error envelope (`ErrorEnvelope`), FastAPI's 422 included (its
`HTTPValidationError` is not what the API sends). The property-based run in
tests/api/test_openapi_fuzz.py fails on any status, content type or body not declared here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase

from api.deps import get_session, get_temporal
from api.edge.units import get_db
from api.errors import ErrorBody, ErrorEnvelope
from policies.schema import policy_json_schema

_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"
_UNAVAILABLE = ("database_unavailable", "temporal_unavailable")
_DESCRIPTIONS = {
    401: "unauthorized (no API key, or one that is not valid), key_revoked or key_expired",
    403: "forbidden (the key's role may not do this; `details.action` names the action), or "
         "key_scope_event_type / key_scope_customer / key_scope_carrier (outside a scoped "
         "key's scope)",
    404: "`<resource>_not_found`: the id in the path names nothing",
    409: "the resource's state refuses this now (e.g. invalid_transition, event_id_reused)",
    413: "body_too_large (over the body limit), or payload_too_large (too large for a workflow)",
    429: "too_many_auth_failures: this address failed to authenticate too often; retry after "
         "`Retry-After` seconds",
    422: "validation_error, or a rule the request breaks (the code says which)",
}


def install(app: FastAPI) -> None:
    """Make `app.openapi()` declare the derived error responses (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, summary=app.summary,
                              description=app.description, routes=app.routes,
                              tags=app.openapi_tags, servers=app.servers)
            app.openapi_schema = declare_bodies(declare_errors(doc, app))
        return app.openapi_schema

    # FastAPI documents replacing the method as the way to customise the schema.
    app.openapi = openapi  # type: ignore[method-assign]


# Bodies a handler takes as a plain mapping and checks itself (so a bad one gets the domain's own
# code, e.g. 422 invalid_policy naming the key), described here by the model that checks them.
HAND_CHECKED_BODIES: dict[tuple[str, str], tuple[str, Callable[[str], dict[str, Any]]]] = {
    ("put", "/v1/sla-policies/{name}"): ("PolicyBody", policy_json_schema),
}


def declare_bodies(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` with each hand-checked request body described by its schema (HAND_CHECKED_BODIES)."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for (method, path), (name, schema_of) in HAND_CHECKED_BODIES.items():
        operation = doc.get("paths", {}).get(path, {}).get(method)
        if operation is None:
            continue
        schema = schema_of("#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
        media = operation.setdefault("requestBody", {}).setdefault("content", {}).setdefault(
            "application/json", {})
        examples = media.get("schema", {}).get("examples")
        media["schema"] = {"$ref": f"#/components/schemas/{name}"}
        if examples:
            media["schema"]["examples"] = examples
    return doc


def declare_errors(doc: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """`doc` with every operation's error responses declared and described by the envelope."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorBody, ErrorEnvelope):
        schemas[model.__name__] = model.model_json_schema(
            ref_template="#/components/schemas/{model}")
        schemas[model.__name__].pop("$defs", None)
    # Through included routers, which FastAPI keeps as branches, as its own get_openapi does.
    for route in routing.iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():  # an APIRoute always has its methods
            op = doc["paths"].get(route.path_format, {}).get(method.lower())
            if op is not None:
                _complete(op, route, method)
    # FastAPI's own 422 models are no longer referenced by any operation.
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return doc


def error_statuses(route: Any, method: str) -> dict[int, str]:
    """The error statuses `route` (an APIRoute, or FastAPI's context of one in an included
    router) can answer for `method` from what it depends on, with a description of each."""
    calls = list(_calls(route.dependant))
    secured = any(isinstance(c, SecurityBase) for c in calls)
    temporal = get_temporal in calls
    database = secured or get_session in calls or get_db in calls
    out: dict[int, str] = {}
    if secured:
        out[401] = _DESCRIPTIONS[401]
        out[403] = _DESCRIPTIONS[403]
        out[429] = _DESCRIPTIONS[429]
    if route.dependant.path_params and method != "PUT":
        out[404] = _DESCRIPTIONS[404]
    if temporal and method in _WRITES:
        out[409] = _DESCRIPTIONS[409]
    if route.body_field is not None:
        out[413] = _DESCRIPTIONS[413]
    if route.body_field is not None or _has_params(route.dependant):
        out[422] = _DESCRIPTIONS[422]
    unavailable = [name for name, on in zip(_UNAVAILABLE, (database, temporal), strict=True)
                   if on]
    if unavailable:
        out[503] = " or ".join(unavailable) + ": retry after `Retry-After` seconds"
    return out


def _complete(op: dict[str, Any], route: Any, method: str) -> None:
    responses: dict[str, Any] = op.setdefault("responses", {})
    for status, description in error_statuses(route, method).items():
        declared = responses.setdefault(str(status), {})
        own = declared.get("description")
        # A route's own text is kept; FastAPI's "Validation Error" says less than ours. A
        # route's own 503 (archive_unavailable) comes on top of the database's and Temporal's.
        if own in (None, "", "Validation Error"):
            declared["description"] = description
        elif status == 503 and not any(code in own for code in _UNAVAILABLE):
            declared["description"] = f"{own}; {description}"
    success = responses.get(str(route.status_code or 200), {}).get("content")
    for key, response in responses.items():
        code = int(key) if key.isdigit() else 0
        if code >= 400:
            response["content"] = {"application/json": {"schema": {"$ref": _ENVELOPE_REF}}}
            if code == 503:
                response["headers"] = {"Retry-After": {
                    "description": "seconds to wait before retrying", "schema": {
                        "type": "string"}}}
        elif 200 <= code < 300 and code != 204 and "content" not in response and success:
            # e.g. 200 for a repeated create: the same body as the 201.
            response["content"] = success


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _has_params(dependant: Dependant) -> bool:
    if dependant.path_params or dependant.query_params or dependant.header_params \
            or dependant.cookie_params or dependant.body_params:
        return True
    return any(_has_params(sub) for sub in dependant.dependencies
               if not isinstance(sub.call, SecurityBase))
