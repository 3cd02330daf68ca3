"""Creating an order from the console: one form, checked by the API's own OrderCreate model.

Validation errors are shown beside the field they belong to, in the viewer's language: pydantic's
error location names the field, its error type picks the words. The order is created through
api/routers/orders.create, the same path as POST /v1/orders. The error summary links each
error to its field. A promise already in the past is accepted only once the viewer has
confirmed it (issue 18, Why "Smaller"): the API takes such orders (a back-office entry of an
order taken by phone), the console asks first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.deps import Principal, SessionDep, TemporalDep
from api.edge.units import DbDep
from api.errors import ApiError
from api.orders import service
from api.orders.schemas import OrderCreate
from console.deps import Page, PageDep
from db.policies import queries as policy_repo
from workflows.order.types import Tier

router = APIRouter()
LINE_ROWS = 5
CUSTOMER_FIELDS = ("id", "name", "tier", "phone", "email", "language", "key_account_manager")
DESTINATION_FIELDS = ("address", "city", "contact", "phone")
# Form fields (beyond the lines' rows); the form's names are the model's, flattened.
FIELDS = ("order_id", *(f"customer_{f}" for f in CUSTOMER_FIELDS),
          *(f"dest_{f}" for f in DESTINATION_FIELDS), "ship_by", "delivery_by", "sla_policy")
# pydantic error type -> catalogue key under "new.error."
_MESSAGES = {
    "missing": "missing", "string_too_short": "missing", "string_too_long": "too_long",
    "string_pattern_mismatch": "pattern", "greater_than_equal": "at_least",
    "less_than_equal": "at_most", "int_parsing": "number", "int_from_float": "number",
    "enum": "choice", "literal_error": "choice", "too_short": "no_lines",
    "datetime_from_date_parsing": "datetime", "datetime_parsing": "datetime",
    "timezone_aware": "datetime",
}


def _local_time(value: str, zone: str) -> str:
    """A datetime-local field read in the viewer's zone, as ISO UTC; unreadable text is passed
    on unchanged for the model to reject."""
    try:
        local = datetime.fromisoformat(value)
    except ValueError:
        return value
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC).isoformat()


def _body(form: dict[str, str], zone: str) -> tuple[dict[str, Any], list[int]]:
    """The OrderCreate body the form describes, and which form row each line came from.
    Blank optional fields are left out, so the model's own defaults and rules apply."""
    def put(target: dict[str, Any], key: str, name: str) -> None:
        if form.get(name, "").strip():
            target[key] = form[name].strip()

    body: dict[str, Any] = {}
    put(body, "order_id", "order_id")
    customer: dict[str, Any] = {}
    for field in CUSTOMER_FIELDS:
        put(customer, field, f"customer_{field}")
    destination: dict[str, Any] = {}
    for field in DESTINATION_FIELDS:
        put(destination, field, f"dest_{field}")
    body["customer"], body["destination"] = customer, destination
    rows = [i for i in range(LINE_ROWS)
            if form.get(f"line_sku_{i}", "").strip() or form.get(f"line_qty_{i}", "").strip()]
    body["lines"] = [{"sku": form.get(f"line_sku_{i}", "").strip(),
                      "qty": form.get(f"line_qty_{i}", "").strip()} for i in rows]
    for key, name in (("promised_ship_by", "ship_by"), ("promised_delivery_by", "delivery_by")):
        if form.get(name, "").strip():
            body[key] = _local_time(form[name].strip(), zone)
    put(body, "sla_policy", "sla_policy")
    return body, rows


def _field(loc: tuple[Any, ...], rows: list[int]) -> str:
    """The form field a pydantic error location points at."""
    if not loc:
        return "delivery_by"  # the model's only cross-field rule: delivery not before ship
    head = loc[0]
    if head in ("customer", "destination") and len(loc) > 1:
        return f"{'customer' if head == 'customer' else 'dest'}_{loc[1]}"
    if head == "lines" and len(loc) > 2 and isinstance(loc[1], int) and loc[1] < len(rows):
        return f"line_{loc[2]}_{rows[loc[1]]}"
    return {"promised_ship_by": "ship_by", "promised_delivery_by": "delivery_by"}.get(
        str(head), str(head))


def _message(error: Any) -> tuple[str, dict[str, Any]]:
    ctx = error.get("ctx") or {}
    if not error["loc"]:
        return "new.error.promise_order", {}
    if error["loc"] == ("lines",) and error["type"] == "value_error":
        return "new.error.duplicate_sku", {}
    key = _MESSAGES.get(error["type"], "invalid")
    limit = ctx.get("max_length", ctx.get("ge", ctx.get("le", "")))
    return f"new.error.{key}", {"limit": limit} if key in ("too_long", "at_least",
                                                          "at_most") else {}


def errors_by_field(exc: ValidationError, rows: list[int]) -> dict[str, tuple[str, dict]]:
    errors: dict[str, tuple[str, dict]] = {}
    for error in exc.errors():
        errors.setdefault(_field(tuple(error["loc"]), rows), _message(error))
    return errors


def _policy_names(session: Session) -> list[tuple[str, object]]:
    """Each policy's name and its newest version's title, if it carries one (issue 18 §6: the
    form shows a display name, never the stored code)."""
    return [(p.name, (p.body or {}).get("title")) for p in policy_repo.all_latest(session)]


def _render(page: Page, policies: list[tuple[str, object]], form: dict[str, str],
            status: int = 200, errors: dict[str, tuple[str, dict]] | None = None,
            past: list[str] | None = None) -> Response:
    return page.render("new_order.html", status=status, values=form, errors=errors or {},
                       rows=range(LINE_ROWS), tiers=[t.value for t in Tier], policies=policies,
                       past=past or [])


def past_promises(order: OrderCreate, now: datetime) -> list[str]:
    """The form fields whose promise is already past at `now`."""
    return [name for name, at in (("ship_by", order.promised_ship_by),
                                  ("delivery_by", order.promised_delivery_by))
            if at is not None and at < now]


@router.get("/orders/new", response_class=HTMLResponse)
def new_order_form(page: PageDep, session: SessionDep) -> Response:
    page.allow("order.create")
    return _render(page, _policy_names(session), {})


@router.post("/orders/new", response_class=HTMLResponse)
async def new_order(page: PageDep, db: DbDep, temporal: TemporalDep) -> Response:
    user = page.allow("order.create")
    form = await page.form(max_fields=len(FIELDS) + 2 * LINE_ROWS + 4)
    body, rows = _body(form, page.viewer.zone)
    try:
        order = OrderCreate.model_validate(body)
    except ValidationError as exc:
        return _render(page, await db.run(_policy_names), form, 422,
                       errors_by_field(exc, rows))
    past = past_promises(order, datetime.now(UTC))
    if past and form.get("past_ok") != "1":
        # Not refused: shown again with the warning and a box to tick; nothing is created.
        return _render(page, await db.run(_policy_names), form, 200, past=past)
    try:
        view, _ = await service.create(db, temporal, page.settings, order,
                                       Principal(name=user.name, role=user.role))
    except ApiError as exc:
        if exc.code == "unknown_policy":
            return _render(page, await db.run(_policy_names), form, 422,
                           {"sla_policy": ("new.error.choice", {})})
        if exc.code == "order_exists":
            return _render(page, await db.run(_policy_names), form, 409,
                           {"order_id": ("new.error.exists", {})})
        if exc.status == 503:
            return page.message(503, "unavailable")
        raise
    return RedirectResponse(f"/console/orders/{quote(view.order_id)}?done=created", 303)
