"""The order's typed read model (api/orders/read_model.py) and the OrderView built from it:
every key the projection writes is read back, older rows read as they were stored, and
/openapi.json describes the whole order."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.app import create_app
from api.orders.read_model import OrderDetail, open_breaches_of
from api.orders.schemas import OrderView
from api.receipts.views import receipt_versions
from config import Settings
from db.orders.models import Order
from db.orders.queries import _detail
from tests.support.order_states import SHA, full_state, hours


def same_times(value: Any) -> Any:
    """`value` with every ISO time as one instant: the workflow writes some as
    `datetime.isoformat()` (+00:00), the read model writes every time as the API does (Z)."""
    if isinstance(value, dict):
        return {k: same_times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [same_times(v) for v in value]
    if isinstance(value, str) and len(value) >= 20 and value[4] == "-" and value[10] == "T":
        return datetime.fromisoformat(value)
    return value


def test_every_key_the_projection_writes_is_read_back() -> None:
    stored = _detail(full_state(), hours(50))
    read = OrderDetail.model_validate(stored)
    assert same_times(read.model_dump(mode="json")) == same_times(stored)
    assert read.receipt is not None and read.receipt.versions[0].sha256 == SHA
    assert read.survey is not None and read.survey.calls[0].outcome == "answered"
    assert read.decisions[0].lines is not None and read.decisions[0].lines[0].qty == 8


def test_a_row_from_an_older_version_reads_and_shows_as_it_was_stored() -> None:
    stored = {
        "receipt": {"document": {"ref": "receipts/a.pdf", "sha256": SHA},
                    "returned_at": "2026-12-01T10:00:00Z"},
        "survey": {"status": "due", "due_at": "2026-12-02T08:00:00Z",
                   "expires_at": "2026-12-05T08:00:00Z"},
        "decisions": [{"kind": "stock_shortage", "decision": "backorder",
                       "decided_by": "Ms Zhang", "at": "2026-12-01T09:00:00Z"}],
        "breaches": [], "a_key_from_elsewhere": 1,
    }
    read = OrderDetail.model_validate(stored)
    assert read.survey is not None and read.survey.calls == [] and read.survey.remind_at is None
    assert read.decisions[0].recorded_by is None and read.shipment is None
    shown = read.model_dump(mode="json")
    assert shown == {k: v for k, v in stored.items() if k != "a_key_from_elsewhere"}
    # Its receipt is one version: the document it holds.
    [version] = receipt_versions(read.receipt)
    assert (version.version, version.sha256, version.ref) == (1, SHA, "receipts/a.pdf")
    assert version.returned_at == datetime(2026, 12, 1, 10, tzinfo=UTC)


def test_a_new_orders_empty_detail_reads_as_nothing_yet() -> None:
    read = OrderDetail.model_validate({})
    assert (read.breaches, read.survey, read.receipt, read.lost) == ([], None, None, False)
    assert read.model_dump(mode="json") == {}


def _untyped(schema: dict[str, Any], defs: dict[str, Any], seen: set[str], path: str
             ) -> list[str]:
    """Where under `schema` a value may be anything: `{}`, a free-form object or
    `additionalProperties` of any kind."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return _untyped(defs[name], defs, seen, name)
    shape = {k: v for k, v in schema.items()
             if k not in ("description", "title", "default", "examples")}
    if not shape:
        return [path]
    found = []
    for key in ("anyOf", "oneOf", "allOf"):
        for i, option in enumerate(shape.get(key, [])):
            found += _untyped(option, defs, seen, f"{path}|{i}")
    if "items" in shape:
        found += _untyped(shape["items"], defs, seen, f"{path}[]")
    extra = shape.get("additionalProperties")
    if extra is True or (shape.get("type") == "object" and "properties" not in shape
                         and extra is None):
        found.append(f"{path}{{*}}")
    elif isinstance(extra, dict):
        found += _untyped(extra, defs, seen, f"{path}{{*}}")
    for name, prop in shape.get("properties", {}).items():
        found += _untyped(prop, defs, seen, f"{path}.{name}")
    return found


def test_openapi_describes_every_part_of_an_order(tmp_path: Path) -> None:
    doc = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}",
                              data_dir=tmp_path)).openapi()
    defs = doc["components"]["schemas"]
    order = defs["OrderView"]
    assert _untyped(order, defs, set(), "OrderView") == []
    assert [name for name, prop in order["properties"].items()
            if not prop.get("description")] == []
    answered = doc["paths"]["/v1/orders/{order_id}"]["get"]["responses"]["200"]
    assert answered["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OrderView"}
    # The same check catches what it is there for.
    assert _untyped({"properties": {"data": {"type": "object", "additionalProperties": True}}},
                    {}, set(), "X") == ["X.data{*}"]


def test_the_model_alone_has_no_untyped_property() -> None:
    schema = OrderView.model_json_schema(mode="serialization")
    assert _untyped(schema, schema.get("$defs", {}), set(), "OrderView") == []


def test_a_board_card_shows_the_breaches_still_open_most_overdue_first() -> None:
    def breach(id_: str, due: float, cleared: float | None = None) -> dict[str, Any]:
        return {"id": id_, "kind": "pick_late", "stage": "confirmed",
                "due_at": hours(due).isoformat(), "detected_at": hours(due).isoformat(),
                "cleared_at": hours(cleared).isoformat() if cleared is not None else None}

    row = Order(order_id="SO-1", detail={"breaches": [
        breach("late", 5), breach("cleared", 1, cleared=2), breach("later", 9),
        breach("earliest", 3)]})
    assert [b.id for b in open_breaches_of(row)] == ["earliest", "late", "later"]
    assert open_breaches_of(Order(order_id="SO-2", detail={})) == []
