"""The order's typed read model (api/orders/read_model.py) and the OrderView built from it:
every key the projection writes is read back, older rows read as they were stored, and
/openapi.json describes the whole order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from api.app import create_app
from api.orders.read_model import OrderDetail, open_breaches_of
from api.orders.schemas import OrderView
from api.receipts.views import receipt_versions
from config import Settings
from db.orders.models import Order
from db.orders.queries import _detail
from tests.support.builders import STANDARD
from workflows.order.records import (
    DecisionRecord,
    Delivery,
    ExceptionRecord,
    FollowUpCall,
    Pod,
    QtyLine,
    Receipt,
    ReceiptDocument,
    ReceiptVersion,
    Shipment,
)
from workflows.order.types import (
    Breach,
    BreachKind,
    ClaimRef,
    Customer,
    Deadline,
    FollowUpStatus,
    LineState,
    OrderState,
    PendingDecision,
    ProjectionInput,
    Scan,
    Stage,
    Survey,
    Tier,
)

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
SHA = "a" * 64


def _at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def full_state() -> OrderState:
    """An order with every part of its state filled, shaped as the workflow writes them."""
    document = ReceiptDocument(ref=f"archive:sha256:{SHA}", sha256=SHA,
                               content_type="application/pdf", size=1234, filename="r.pdf")
    returned = _at(60).isoformat()
    return OrderState(
        order_id="SO-1", customer=Customer(id="C-1", name="Acme", tier=Tier.KEY_ACCOUNT),
        lines=[LineState(sku="SKU-1", ordered=10, picked=8, shipped=8, delivered=8, agreed=8)],
        destination={"address": "1 Road"}, promised_ship_by=_at(24),
        promised_delivery_by=_at(72), policy=STANDARD, stage=Stage.FOLLOWED_UP,
        stage_times={"received": T0},
        shipment=Shipment(carrier="SF Express", tracking_no="SF1", vehicle=None, driver="W"),
        scans=[Scan(event_id="s1", occurred_at=_at(30), location="Hub", status="departed",
                    eta=_at(50), seen_at=_at(30))],
        delivery=Delivery(signer="Li", condition="damaged",
                          pod=Pod(kind="signature", ref="pod/1.png")),
        receipt=Receipt(document=document, returned_at=returned, versions=(ReceiptVersion(
            version=1, ref=document.ref, sha256=SHA, content_type="application/pdf", size=1234,
            filename="r.pdf", returned_at=returned, actor="desk", previous_sha256=None),)),
        survey=Survey(status=FollowUpStatus.ANSWERED, due_at=_at(80), expires_at=_at(150),
                      scores={"timeliness": 2}, comment="late", answered_at=_at(90),
                      remind_at=_at(115), goods_ok=False, channel="phone", outcome="answered",
                      calls=[FollowUpCall(at=_at(90).isoformat(), outcome="answered",
                                          actor="desk", note=None)],
                      problems=["low_score:timeliness", "goods_not_ok"]),
        breaches=[Breach(id="b1", kind=BreachKind.PICK_LATE, stage=Stage.CONFIRMED,
                         due_at=_at(10), detected_at=_at(10), cleared_at=_at(12),
                         cleared_by="ev-2", escalation_id="esc-1")],
        cancel_reason=None, next_deadline=Deadline(kind="survey_window", due_at=_at(150)),
        decision=PendingDecision(kind="short_pick", reported_at=_at(12), due_at=_at(20),
                                 event_id="ev-3", available={"SKU-1": 8}),
        decisions=[DecisionRecord(kind="stock_shortage", decision="partial",
                                  decided_by="Ms Zhang", recorded_by="desk",
                                  at=_at(5).isoformat(), lines=(QtyLine(sku="SKU-1", qty=8),),
                                  promised_delivery_by=None)],
        exceptions=[ExceptionRecord(event_id="ev-4", reason="weather", text="snow",
                                    at=_at(40).isoformat(), actor="sf",
                                    promised_delivery_by=_at(80))],
        claims=[ClaimRef(claim_id="SO-1-CL1", cause="damaged", opened_at=_at(70),
                         origin="delivery")],
        complaints=["SO-1-CP1"], lost=False)


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
    stored = _detail(ProjectionInput(state=full_state(), entries=[]), _at(50))
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
                "due_at": _at(due).isoformat(), "detected_at": _at(due).isoformat(),
                "cleared_at": _at(cleared).isoformat() if cleared is not None else None}

    row = Order(order_id="SO-1", detail={"breaches": [
        breach("late", 5), breach("cleared", 1, cleared=2), breach("later", 9),
        breach("earliest", 3)]})
    assert [b.id for b in open_breaches_of(row)] == ["earliest", "late", "later"]
    assert open_breaches_of(Order(order_id="SO-2", detail={})) == []
