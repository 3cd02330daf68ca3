"""The edge's structural rule, checked over every route the app has: an async handler (one that
may await Temporal or the network) never takes the request-wide database session, so it cannot
hold a connection, or block the event loop with a query, while it waits."""

from __future__ import annotations

import inspect

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.app import create_app
from api.deps import get_session


def all_routes(routes: list) -> list[APIRoute]:
    """Every APIRoute, through included routers (FastAPI keeps them as branches)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += all_routes(route.original_router.routes)
    return found


def _uses_session(dependant: Dependant) -> bool:
    return any(d.call is get_session or _uses_session(d) for d in dependant.dependencies)


def _async_dependencies(dependant: Dependant) -> list[str]:
    """Async dependencies that themselves need the session (they would query on the loop)."""
    found = []
    for d in dependant.dependencies:
        if inspect.iscoroutinefunction(d.call) and _uses_session(d):
            found.append(getattr(d.call, "__name__", repr(d.call)))
        found += _async_dependencies(d)
    return found


def test_no_async_route_takes_the_request_session() -> None:
    app = create_app()
    routes = all_routes(app.routes)
    assert len(routes) > 50  # the walk really saw the API and the console
    offenders = sorted(f"{sorted(r.methods)} {r.path}" for r in routes
                       if inspect.iscoroutinefunction(r.endpoint) and _uses_session(r.dependant))
    assert offenders == []
    assert sorted(n for r in routes for n in _async_dependencies(r.dependant)) == []


def test_health_answers_on_the_event_loop() -> None:
    # A plain `def` would wait for a thread-pool slot, which an outage can fill.
    app = create_app()
    healthz = next(r for r in all_routes(app.routes) if r.path == "/healthz")
    assert inspect.iscoroutinefunction(healthz.endpoint)
