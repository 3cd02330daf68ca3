"""Carrier feeds on the real stack (API -> Temporal dev server -> worker -> database), both
directions of Kuaidi100's protocol against a local server: a shipped order is subscribed at
the aggregator's `/poll` (retried through the outbox when it fails), and pushes built and
signed as Kuaidi100 builds them land as scans, close the delivery, and behave when repeated,
late, unsigned or for nobody. The generic feed the same way, by API key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from api.feeds.kuaidi100 import CHINA
from tests.support.api_harness import Api, StackFactory, order_body
from tests.support.builders import FULL_PICK
from tests.support.kuaidi100 import (
    FORM_HEADERS,
    KEY,
    SALT,
    aggregator,
    form,
    push_param,
    scan,
)
from tests.support.polling import eventually

PUSH = "/v1/carrier-feeds/kuaidi100"
GENERIC = "/v1/carrier-feeds/events"
PUBLIC = "http://waybill.test"


def china(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


async def shipped_order(api: Api, carrier: str, tracking_no: str, at: datetime) -> str:
    body = order_body(received_at=(at - timedelta(hours=4)).isoformat())
    assert (await api.create(body)).status_code == 201
    order_id = body["order_id"]
    for type_, data, when in (("confirmed", {}, at - timedelta(hours=3)),
                              ("picked", FULL_PICK, at - timedelta(hours=2)),
                              ("shipped", {"carrier": carrier, "tracking_no": tracking_no},
                               at - timedelta(hours=1))):
        resp = await api.event(order_id, type_, data, occurred_at=when)
        assert resp.status_code == 200, resp.text
    return order_id


async def entries(api: Api, order_id: str, type_: str) -> list[dict[str, Any]]:
    items = (await api.get(f"/v1/orders/{order_id}/timeline", kind="order")).json()["items"]
    return [e for e in items if e["type"] == type_]


async def stage(api: Api, order_id: str) -> str:
    return str((await api.get(f"/v1/orders/{order_id}")).json()["stage"])


async def pushed(api: Api, param: str, **kw: Any) -> httpx.Response:
    return await api.http.post(PUSH, content=form(param, **kw), headers=FORM_HEADERS)


async def test_kuaidi100_both_directions(make_stack: StackFactory, db_url: str) -> None:
    start = datetime.now(UTC) - timedelta(days=1)
    with aggregator() as agg:
        agg.fail_next = 1  # the first subscription attempt meets a 500: the outbox retries
        async with make_stack(db_url, kuaidi100_key=KEY, kuaidi100_salt=SALT,
                              kuaidi100_base_url=agg.url, public_base_url=PUBLIC) as api:
            order_id = await shipped_order(api, "SF Express", "SF1001", start)

            # -- the subscription, on `shipped` ------------------------------------------
            await eventually(lambda: _async(agg.subscriptions), timeout=30)
            [sub] = agg.subscriptions
            assert (sub["company"], sub["number"], sub["key"]) == ("shunfeng", "SF1001", KEY)
            assert sub["parameters"]["callbackurl"] == PUBLIC + PUSH
            assert sub["parameters"]["salt"] == SALT and not agg.refusals

            # -- pushes -------------------------------------------------------------------
            s1 = scan(china(start + timedelta(hours=1)), "【深圳】已揽收", status="揽收",
                      area="广东,深圳市")
            s2 = scan(china(start + timedelta(hours=6)), "到达【上海转运中心】", status="在途",
                      area="上海市")
            first = push_param("shunfeng", "SF1001", "0", [s2, s1])
            resp = await pushed(api, first)
            assert resp.status_code == 200, resp.text
            assert resp.json() == {"result": True, "returnCode": "200", "message": "成功"}
            scans = await entries(api, order_id, "tracking_scan")
            assert [e["data"]["status"] for e in scans] == ["picked_up", "in_transit"]
            assert scans[1]["data"]["location"] == "上海市"
            assert scans[0]["actor"] == "kuaidi100" and scans[0]["source"] == "carrier"
            assert await stage(api, order_id) == "in_transit"

            again = await pushed(api, first)  # the same push twice: nothing new
            assert again.json()["result"] is True
            assert len(await entries(api, order_id, "tracking_scan")) == 2

            s3 = scan(china(start + timedelta(hours=9)), "派件中", status="派件")
            s4 = scan(china(start + timedelta(hours=11)), "已签收，签收人：本人",
                      code="301")
            signed_off = push_param("shunfeng", "SF1001", "3", [s4, s3, s2, s1])
            forged = await pushed(api, signed_off, salt="guessed")
            assert forged.status_code == 401
            assert forged.json()["result"] is False
            assert forged.json()["error"]["code"] == "bad_signature"
            unsigned = await api.http.post(PUSH, content=f"param={signed_off}",
                                           headers=FORM_HEADERS)
            assert unsigned.status_code == 401
            assert await stage(api, order_id) == "in_transit"

            resp = await pushed(api, signed_off)
            assert resp.json()["result"] is True
            assert await stage(api, order_id) == "delivered"
            [delivered] = await entries(api, order_id, "delivered")
            assert delivered["data"]["signer"] == "recipient"
            assert len(await entries(api, order_id, "tracking_scan")) == 3

            # Out of order: an older problem scan after delivery. The order refuses it, the
            # carrier is told "taken" (pushing it again would change nothing), it is recorded.
            late = scan(china(start + timedelta(hours=10)), "地址不详", code="207")
            resp = await pushed(api, push_param("shunfeng", "SF1001", "3", [s4, late, s3]))
            assert resp.json()["result"] is True
            assert await stage(api, order_id) == "delivered"
            assert await entries(api, order_id, "delivery_exception") == []
            record = (await api.get("/v1/carrier-feeds/pushes", tracking_no="SF1001")).json()
            outcomes = {(p["carrier_status"], p["outcome"], p["code"]) for p in record["items"]}
            assert ("207", "refused", "invalid_transition") in outcomes
            assert {p["order_id"] for p in record["items"]} == {order_id}
            assert max(p["pushes"] for p in record["items"]) >= 3

            # Nobody's parcel: taken, kept for operators.
            stray = push_param("shunfeng", "SF-UNKNOWN", "0", [s1])
            assert (await pushed(api, stray)).json()["result"] is True
            listed = (await api.get("/v1/carrier-feeds/pushes", outcome="unroutable")).json()
            assert [p["tracking_no"] for p in listed["items"]] == ["SF-UNKNOWN"]
            # ... until an order ships under that number: the next push reaches it.
            later = await shipped_order(api, "顺丰速运", "SF-UNKNOWN", start)
            assert (await pushed(api, stray)).json()["result"] is True
            assert len(await entries(api, later, "tracking_scan")) == 1
            listed = (await api.get("/v1/carrier-feeds/pushes", outcome="unroutable")).json()
            assert listed["items"] == []

            bad = await api.http.post(PUSH, content="param=not-json&sign=" + "A" * 32,
                                      headers=FORM_HEADERS)
            assert bad.status_code == 401  # the signature is checked before anything else


async def _async(value: Any) -> Any:
    return value


async def test_generic_feed(make_stack: StackFactory, db_url: str) -> None:
    start = datetime.now(UTC) - timedelta(days=1)
    async with make_stack(db_url) as api:
        order_id = await shipped_order(api, "ZTO Express", "ZT2002", start)

        def event(tag: str, event_id: str, hours: int, **kw: Any) -> dict[str, Any]:
            return {"carrier": "zhongtong", "tracking_number": "ZT2002", "event_id": event_id,
                    "tag": tag, "occurred_at": (start + timedelta(hours=hours)).isoformat(),
                    "location": "Hangzhou", **kw}

        async def post(body: dict[str, Any], role: str = "integration") -> httpx.Response:
            return await api.http.post(GENERIC, json=body, headers=api.auth(role))

        resp = await post(event("InTransit", "z1", 2))
        assert resp.status_code == 200, resp.text
        assert resp.json()["orders"] == [{"order_id": order_id, "outcome": "applied",
                                          "stage": "in_transit", "code": None}]
        fail = event("AttemptFail", "z2", 5, subtag="AttemptFail_001",
                     message="nobody home, retry tomorrow")
        assert (await post(fail)).json()["orders"][0]["outcome"] == "applied"
        assert (await post(fail)).json()["orders"][0]["outcome"] == "duplicate"
        [exc] = await entries(api, order_id, "delivery_exception")
        assert exc["data"]["reason"] == "consignee_absent"

        done = await post(event("Delivered", "z3", 8, subtag="Delivered_001"))
        assert done.json()["type"] == "delivered"
        assert await stage(api, order_id) == "delivered"
        after = await post(event("Exception", "z4", 7, subtag="Exception_013"))
        assert after.status_code == 200
        assert after.json()["orders"][0]["outcome"] == "refused"

        nobody = await post({**event("InTransit", "z5", 3), "tracking_number": "NOPE"})
        assert nobody.json()["orders"] == [{"order_id": None, "outcome": "unroutable",
                                            "stage": None, "code": None}]

        assert (await api.http.post(GENERIC, json=event("InTransit", "z6", 3))).status_code \
            == 401
        assert (await post(event("InTransit", "z6", 3), role="auditor")).status_code == 403
        invalid = await post({**event("InTransit", "z6", 3), "tag": "Teleported"})
        assert invalid.status_code == 422
        assert invalid.json()["error"]["code"] == "validation_error"
