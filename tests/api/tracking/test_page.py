"""The customer tracking page over HTTP, on both engines: the signed link, the lookup by
tracking number and phone digits (and its limit), what the page shows and what it never shows.

The orders are projected as the order workflow projects them (tests/support/tracking_orders);
the page reads, so no workflow runs. The links are the ones notices carry
(shared/survey_links.tracking_links_for).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session

from config import Settings
from db.engine import make_engine, session_factory, transaction
from db.personal.redact import redact_order
from shared.survey_links import links_for, tracking_links_for
from tests.support import tracking_orders as orders
from tests.support.api_harness import Api, StackFactory
from workflows.order.types import FollowUpStatus

LIMIT = 3


def seeded(session: Session) -> None:
    orders.moving(session, "SO-T-MOVE", "SF1000000001", language="en")
    orders.moving(session, "SO-T-ZH", "SF1000000002", reason="address_incorrect", tokyo=True)
    orders.delivered(session, "SO-T-DONE", "SF1000000003", language="en")
    orders.delivered(session, "SO-T-ANSWERED", "SF1000000004", survey=FollowUpStatus.ANSWERED)
    orders.moving(session, "SO-T-NOPHONE", "sf1000000005", destination_phone=None,
                  reason=None, late=False)
    orders.closed(session, "SO-T-CLOSED", "SF1000000006")
    orders.received(session, "SO-T-NEW")
    orders.cancelled(session, "SO-T-CANCEL")


@pytest.fixture
async def api(make_stack: StackFactory, db_url: str) -> Any:
    async with make_stack(db_url, worker=False, seed=seeded,
                          tracking_lookups_per_minute=LIMIT) as stack:
        yield stack


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def link(api: Api, order_id: str) -> str:
    return f"/t/{tracking_links_for(api.settings).token(order_id)}"


def no_personal_data(html: str) -> None:
    for value in orders.PERSONAL:
        assert value not in html, value


def headers_are_safe(resp: Any) -> None:
    csp = resp.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "script-src" not in csp
    assert resp.headers["referrer-policy"] == "no-referrer"
    assert resp.headers["x-frame-options"] == "DENY"
    assert resp.headers["cache-control"] == "no-store"
    assert "set-cookie" not in resp.headers


# -- the signed link ------------------------------------------------------------------------


async def test_the_link_shows_the_order_in_the_customers_language(api: Api) -> None:
    resp = await api.http.get(link(api, "SO-T-MOVE"))  # no key: the link is the credential
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    headers_are_safe(resp)
    html = resp.text
    text = text_of(html)
    assert '<html lang="en">' in html and 'href="?lang=zh-CN"' in html
    assert "<script" not in html and "<link" not in html
    assert "Order SO-T-MOVE" in text
    # Stages in words, times in the business zone (no calendar: Asia/Shanghai, UTC+8).
    assert "Order received 2026-12-07 09:00" in text
    assert "On the way 2026-12-07 21:00" in text and "Delivered Not yet" in text
    assert 'aria-current="step"' in html
    assert "Promised by 2026-12-10 09:00" in text
    assert "Expected 2026-12-11 09:00" in text and "later than promised" in text
    # The latest ten scans, newest first.
    scans = re.findall(r"转运中心(\d\d)", html)
    assert scans == [f"{i:02d}" for i in range(11, 1, -1)]
    assert "派送员 ****3000" in text  # the courier's phone in the carrier's text, masked
    # The exception in customer words, what happens next, and the new promise.
    assert "Nobody was there to receive the goods" in text
    assert "The carrier will try again" in text
    assert "The new expected delivery time is 2026-12-12 09:00" in text
    assert "Not delivered yet" in text  # proof of delivery
    assert "顺丰速运" in text and "SF1000000001" in text
    # The consignee masked: first character, city, last four digits.
    assert "Receiver 李*" in text and "上海" in text and "ending in 8000" in text
    assert "SKU-1 × 10" in text
    assert "Times are shown in Asia/Shanghai time." in text
    assert "survey" not in text.lower()
    no_personal_data(html)
    assert "carrier:sf" not in html and "breach" not in html.lower()

    chinese = await api.http.get(link(api, "SO-T-MOVE"), params={"lang": "zh-CN"})
    assert chinese.status_code == 200 and '<html lang="zh-CN">' in chinese.text
    assert "收货人不在，未能签收" in chinese.text and "尾号 8000" in chinese.text


async def test_staff_read_the_link_to_give_the_customer_on_the_order(api: Api) -> None:
    view = await api.get("/v1/orders/SO-T-MOVE", role="operator")
    assert view.status_code == 200, view.text
    url = view.json()["tracking_url"]
    assert url == f"{api.settings.public_url}{link(api, 'SO-T-MOVE')}"
    assert (await api.http.get(url.removeprefix(api.settings.public_url))).status_code == 200


async def test_times_follow_the_policys_calendar_zone(api: Api) -> None:
    resp = await api.http.get(link(api, "SO-T-ZH"))
    text = text_of(resp.text)
    assert '<html lang="zh-CN">' in resp.text  # the customer's language
    assert "已接单 2026-12-07 10:00" in text and "Asia/Tokyo" in text
    assert "无法按地址派送" in text and "客服将与您联系核实地址" in text


async def test_delivered_shows_the_proof_and_the_survey_while_it_is_open(api: Api) -> None:
    resp = await api.http.get(link(api, "SO-T-DONE"))
    html, text = resp.text, text_of(resp.text)
    assert "Delivered on 2026-12-08 00:00" in text
    assert "Signed for on delivery" in text and "Condition on delivery: intact" in text
    survey = re.search(r'href="\.\./s/([^"?]+)\?lang=en"', html)
    assert survey is not None
    assert links_for(api.settings).order_id(survey.group(1)) == "SO-T-DONE"
    assert "Answer the short survey" in text
    assert "Expected" not in text  # no ETA once delivered
    no_personal_data(html)

    answered = await api.http.get(link(api, "SO-T-ANSWERED"))
    assert answered.status_code == 200 and "../s/" not in answered.text
    assert "已送达" in answered.text


async def test_other_stages_read_in_words(api: Api) -> None:
    new = text_of((await api.http.get(link(api, "SO-T-NEW"))).text)
    assert "Order received" in new and "Carrier not yet known" in new
    assert "No scans from the carrier yet." in new
    cancelled = await api.http.get(link(api, "SO-T-CANCEL"))
    text = text_of(cancelled.text)
    assert "This order was cancelled" in text and "Cancelled on 2026-12-07 14:00" in text
    assert "王小明" not in cancelled.text  # the cancel reason is not shown


async def test_a_redacted_order_shows_its_stages_and_no_personal_data(api: Api) -> None:
    engine = make_engine(api.settings.db_url)
    with transaction(session_factory(engine)) as session:
        redact_order(session, "SO-T-CLOSED", datetime.now(UTC), days=30)
    engine.dispose()
    resp = await api.http.get(link(api, "SO-T-CLOSED"))
    assert resp.status_code == 200
    html, text = resp.text, text_of(resp.text)
    assert "已送达" in text and "仓库已拣货 2026-12-07 15:00" in text
    assert "[redacted]" not in html and "redacted" not in html
    assert "收货人" not in text and "尾号" not in text  # no masked remains either
    no_personal_data(html)
    # No phone any more: the lookup cannot find it (the link still opens it).
    found = await api.http.post("/t", data={"tracking_no": "SF1000000006",
                                            "phone_tail": "8000"})
    assert found.status_code == 404


async def test_bad_links_get_one_not_found_page_in_both_languages(api: Api) -> None:
    token = link(api, "SO-T-MOVE").split("/")[-1]
    encoded, mac = token.split(".")
    other = tracking_links_for(Settings(data_dir=api.settings.data_dir,
                                        survey_secret=SecretStr("another")))
    bad = [f"{encoded}.{'B' if mac[0] == 'A' else 'A'}{mac[1:]}",
           links_for(api.settings).token("SO-T-MOVE"),  # a survey token opens no tracking page
           other.token("SO-T-MOVE"), tracking_links_for(api.settings).token("SO-NOT-STORED"),
           "nonsense", "a.b", "A" * 300 + "." + mac]
    for value in bad:
        resp = await api.http.get(f"/t/{value}")
        assert resp.status_code == 404, value
        headers_are_safe(resp)
        assert "链接无效" in resp.text and "Link not valid" in resp.text
        assert '<html lang="zh-CN">' in resp.text
    english = await api.http.get(f"/t/{bad[0]}", headers={"accept-language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text and english.text.index(
        "Link not valid") < english.text.index("链接无效")


async def test_the_token_stays_out_of_the_access_log(api: Api,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    token = link(api, "SO-T-MOVE").split("/")[-1]
    with caplog.at_level(logging.INFO, logger="waybill.access"):
        assert (await api.http.get(f"/t/{token}")).status_code == 200
    paths = [r.path for r in caplog.records if r.name == "waybill.access"]
    assert paths == ["/t/<token>"]
    assert token not in caplog.text


# -- the lookup ------------------------------------------------------------------------------


async def test_lookup_form_and_a_match_redirects_to_the_signed_link(api: Api) -> None:
    form = await api.http.get("/t", params={"lang": "en"})
    assert form.status_code == 200 and 'name="tracking_no"' in form.text
    assert 'name="phone_tail"' in form.text and 'method="post"' in form.text
    headers_are_safe(form)

    found = await api.http.post("/t?lang=en", data={"tracking_no": " SF1000000001 ",
                                                     "phone_tail": "8000"})
    assert found.status_code == 303
    assert found.headers["location"] == f"t/{link(api, 'SO-T-MOVE').split('/')[-1]}?lang=en"
    page = await api.http.get(f"/{found.headers['location']}")
    assert page.status_code == 200 and "SO-T-MOVE" in page.text

    # Lower-case typed, upper-case stored; and no destination phone: the customer's.
    lower = await api.http.post("/t", data={"tracking_no": "sf1000000001", "phone_tail": "8000"})
    assert lower.status_code == 303
    fallback = await api.http.post("/t", data={"tracking_no": "sf1000000005",
                                               "phone_tail": "5678"})
    assert fallback.status_code == 303
    assert link(api, "SO-T-NOPHONE").split("/")[-1] in fallback.headers["location"]


async def test_no_match_is_one_answer_whichever_input_was_wrong(api: Api) -> None:
    answers = []
    for number, tail in (("SF1000000001", "1234"), ("SF9999999999", "8000"),
                         ("SF1000000002", "5678")):  # the customer's phone: the consignee's wins
        resp = await api.http.post("/t?lang=en", data={"tracking_no": number,
                                                       "phone_tail": tail})
        answers.append((resp.status_code, resp.text.replace(number, "N")))
    assert {a for a in answers} == {answers[0]} and answers[0][0] == 404
    assert "We found no order with this tracking number and phone" in answers[0][1]
    assert "1234" not in answers[0][1]  # the digits are not echoed


@pytest.mark.parametrize("fields", [
    {"tracking_no": "SF1", "phone_tail": "8000"}, {"tracking_no": "SF1000000001"},
    {"tracking_no": "SF1000000001", "phone_tail": "80001"},
    {"tracking_no": "SF 1000000001'--", "phone_tail": "8000"},
    {"tracking_no": "x" * 3000, "phone_tail": "abcd"}])
async def test_malformed_queries_are_explained(api: Api, fields: dict[str, str]) -> None:
    resp = await api.http.post("/t?lang=en", data=fields)
    assert resp.status_code == 422
    assert "Please check what you entered" in resp.text and 'aria-invalid="true"' in resp.text
    assert "x" * 41 not in resp.text  # what is shown again is bounded too


async def test_bodies_that_are_not_small_forms_are_refused(api: Api) -> None:
    assert (await api.http.post("/t", json={"tracking_no": "x"})).status_code == 415
    big = await api.http.post("/t", data={"tracking_no": "SF1000000001", "x": "y" * 8000})
    assert big.status_code == 413


async def test_lookups_are_limited_per_client_address(api: Api) -> None:
    def post(number: str, tail: str = "0000") -> Any:
        return api.http.post("/t?lang=en", data={"tracking_no": number, "phone_tail": tail})

    for _ in range(LIMIT):
        assert (await post("SF1000000001")).status_code == 404
    limited = await post("SF1000000003", "8000")  # even a right answer, from this address
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert "Too many attempts" in limited.text
    assert f"try again in {limited.headers['retry-after']} seconds" in limited.text


async def test_the_limit_per_tracking_number_holds_across_addresses(api: Api) -> None:
    async def post(client: str, number: str, tail: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=api.app, client=(client, 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://waybill") as other:
            return await other.post("/t", data={"tracking_no": number, "phone_tail": tail})

    for i in range(LIMIT):  # guessing the digits of one number from many addresses
        assert (await post(f"10.0.0.{i}", "SF1000000002", f"{i:04d}")).status_code == 404
    assert (await post("10.0.1.1", "sf1000000002", "8000")).status_code == 429
    # Another number from a new address is answered.
    assert (await post("10.0.1.2", "SF1000000001", "8000")).status_code == 303

