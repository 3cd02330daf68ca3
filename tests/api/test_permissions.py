"""The permission table (api/permissions.py) against the app and the README: every route has an
explicit entry, every API route's `require` names that entry, every event type has its own
action, and the README's role tables say what the code does. Fast: no server is started."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.dependencies.models import Dependant
from starlette.routing import Route

from api import permissions
from api.app import create_app
from api.permissions import PUBLIC, ROUTES, Role, roles_for, route_roles
from console.session import ACTIONS, CONSOLE_ROLES
from workflows.claim.types import ClaimEventType
from workflows.complaint.types import ComplaintEventType
from workflows.order.types import EventType

README = Path(__file__).resolve().parents[2] / "README.md"


def app_routes() -> dict[tuple[str, str], Dependant | None]:
    """(method, full path) -> the route's dependant (None for Starlette's own, e.g. /docs).

    FastAPI 0.165 keeps included routers as `_IncludedRouter` branches whose routes carry paths
    relative to their parents' prefixes; `effective_route_contexts` gives the full paths."""
    app = create_app()
    found: dict[tuple[str, str], Dependant | None] = {}
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):
            for ctx in route.effective_route_contexts():
                for method in ctx.methods or ():
                    found[(method, ctx.path_format)] = ctx.dependant
        elif isinstance(route, Route):
            for method in route.methods or ():
                if method != "HEAD":
                    found[(method, route.path)] = None
    return found


def required_actions(dependant: Dependant | None) -> list[str]:
    if dependant is None:
        return []
    found = []
    for dep in dependant.dependencies:
        action = getattr(dep.call, "action", None)
        if action is not None:
            found.append(action)
        found += required_actions(dep)
    return found


def test_every_route_has_an_explicit_entry_and_no_entry_is_stale() -> None:
    routes = app_routes()
    assert sorted(set(routes) - set(ROUTES)) == [], "routes missing from api/permissions.py"
    assert sorted(set(ROUTES) - set(routes)) == [], "entries naming no route"


def test_every_api_route_requires_exactly_its_table_action() -> None:
    for (method, path), dependant in app_routes().items():
        if path.startswith("/console"):
            continue  # console.deps.guard reads ROUTES itself (below)
        actions = required_actions(dependant)
        expected = ROUTES[(method, path)]
        if expected == PUBLIC:
            assert actions == [], f"{method} {path} is public but requires {actions}"
        else:
            assert actions == [expected], f"{method} {path}: {actions} != {expected}"


def test_console_routes_are_guarded_by_the_table() -> None:
    """Every /console route is behind console.deps.guard, or (the Web UI's codec, which answers
    JSON) behind a session check for the action the table gives its route."""
    from console.deps import guard

    def guarded(dependant: Dependant | None, action: str | None) -> bool:
        return dependant is not None and any(
            d.call is guard or guarded(d, action)
            or (action is not None and getattr(d.call, "action", None) == action)
            for d in dependant.dependencies)

    for (method, path), dependant in app_routes().items():
        if path.startswith("/console"):
            action = permissions.ROUTES.get((method, path))
            assert guarded(dependant, action), f"{method} {path} is not behind the table"


def test_every_event_type_has_its_own_action() -> None:
    for t in EventType:
        assert f"order.event.{t.value}" in permissions.PERMISSIONS
    for t in ComplaintEventType:
        assert f"complaint.event.{t.value}" in permissions.PERMISSIONS
    for t in ClaimEventType:
        if t != ClaimEventType.DOCUMENT_ADDED:  # posted by the documents route
            assert f"claim.event.{t.value}" in permissions.PERMISSIONS


@pytest.mark.parametrize("event_type", ["follow_up_call", "cancelled", "note",
                                        "promise_changed", "shortage_decision"])
def test_staff_decisions_are_not_integration_events(event_type: str) -> None:
    roles = roles_for(f"order.event.{event_type}")
    assert Role.INTEGRATION not in roles
    assert {Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN} <= roles


def test_the_follow_up_call_route_and_event_are_one_rule() -> None:
    route = route_roles("POST", "/v1/orders/{order_id}/follow-up-call")
    assert route == roles_for("order.event.follow_up_call")
    assert Role.INTEGRATION not in (route or set())


@pytest.mark.parametrize("event_type", ["confirmed", "picked", "stock_shortage", "shipped",
                                        "tracking_scan", "delivered", "delivery_exception",
                                        "receipt_returned"])
def test_integrations_post_the_path_events(event_type: str) -> None:
    assert Role.INTEGRATION in roles_for(f"order.event.{event_type}")


def test_supervisors_hold_every_operator_right() -> None:
    for action, roles in permissions.PERMISSIONS.items():
        if Role.OPERATOR in roles:
            assert Role.SUPERVISOR in roles, action


def test_console_actions_come_from_the_table() -> None:
    assert roles_for("console.sign_in") == CONSOLE_ROLES
    assert Role.INTEGRATION not in CONSOLE_ROLES
    assert ACTIONS["order.follow_up_call"] == roles_for("order.event.follow_up_call")
    assert ACTIONS["audit"] == roles_for("order.history.read")
    assert ACTIONS["webhooks"] == {Role.ADMIN}
    escalations = {roles_for(f"escalation.{a}") for a in
                   ("acknowledge", "resolve", "reassign", "snooze")}
    assert len(escalations) == 1, "the console's one escalation form needs one rule"


def test_an_unknown_action_fails_loudly() -> None:
    with pytest.raises(KeyError):
        roles_for("order.frobnicate")
    with pytest.raises(KeyError):
        roles_for("nothing.*")


# --- the README -------------------------------------------------------------------------------

_BEGIN, _END = "<!-- permissions:begin -->", "<!-- permissions:end -->"
_METHODS = "GET|POST|PUT|PATCH|DELETE"
_ENDPOINT = re.compile(rf"^((?:{_METHODS})(?:/(?:{_METHODS}))*) (/[^\s\[?]*)")


def _normal(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def _roles_cell(text: str) -> frozenset[Role] | None:
    text = text.split("(", 1)[0].strip()  # "(overrides: ...)" and the like are prose
    if text.startswith("none"):
        return None
    if text == "all":
        return frozenset(Role)
    return frozenset(Role(r.strip()) for r in text.split(","))


def readme_role_rows() -> list[tuple[str, str, frozenset[Role] | None]]:
    """(method, normalised path, roles) for every endpoint named in a README table whose header
    starts `| endpoint | ... | roles |` (the hand-written ones and the generated one)."""
    rows: list[tuple[str, str, frozenset[Role] | None]] = []
    header: list[str] | None = None
    for line in README.read_text().splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if header[0] != "endpoint" or header[-1] != "roles" or set(line) <= set("|-: "):
            continue
        roles = _roles_cell(cells[-1])
        named = 0
        for span in re.findall(r"`([^`]+)`", cells[0]):
            match = _ENDPOINT.match(span)
            if match:
                named += 1
                for method in match.group(1).split("/"):
                    rows.append((method, _normal(match.group(2)), roles))
        assert named, f"a README role row names no endpoint: {line}"
    return rows


def test_the_readme_role_tables_agree_with_the_code() -> None:
    table = {(m, _normal(p)): route_roles(m, p) for (m, p) in ROUTES}
    rows = readme_role_rows()
    wrong = [(m, p, sorted(roles or []), sorted(table.get((m, p)) or []))
             for m, p, roles in rows if (m, p) not in table or table[(m, p)] != roles]
    assert wrong == [], "README rows (method, path, says, code says)"
    api_routes = {k for k in table if not k[1].startswith("/console")}
    assert api_routes <= {(m, p) for m, p, _ in rows}, "API routes missing from the README"


def test_the_readme_carries_the_generated_tables() -> None:
    text = README.read_text()
    assert _BEGIN in text and _END in text
    generated = text.split(_BEGIN, 1)[1].split(_END, 1)[0].strip("\n") + "\n"
    assert generated == permissions.markdown(), \
        "regenerate: python -m api.permissions --markdown"
