"""Issue 18 §6 on the order page: a damaged delivery says so in its header, with its open claim
and complaint, before anything else; low scores are marked with a word, in the survey's order
(the complaint's page too);
the Lines table folds into cards on a phone (its cells carry their column's name)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from console.i18n import catalogue
from shared.survey import SURVEY_QUESTIONS
from tests.support.api_harness import Api
from tests.support.console_harness import sign_in
from tests.support.damaged_harness import DAMAGED_LADDER, damaged_order

pytestmark = pytest.mark.one_engine  # the page's words, not the SQL


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"policy": DAMAGED_LADDER}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_the_header_says_damaged_and_names_the_open_cases(api: Api) -> None:
    order_id = await damaged_order(api.http, api.keys)
    for lang, said in (("en", ("Arrived not intact: Damaged", f"Open claim {order_id}-CL1",
                               f"Open complaint {order_id}-CP1", "Low")),
                       ("zh-CN", ("到货异常：破损", f"理赔 {order_id}-CL1", f"投诉 {order_id}-CP1",
                                  "偏低"))):
        await sign_in(api.http, api.keys["operator"], lang)
        html = (await api.http.get(f"/console/orders/{order_id}")).text
        header = html[html.index("<h1>"):html.index('id="h-deadlines"')]
        alerts = _text(header[header.index('data-testid="order-alerts"'):])
        for words in said[:3]:
            assert words in alerts, (lang, words, alerts)
        # each open case a link to its own page
        assert f'href="/console/claims/{order_id}-CL1"' in header
        assert f'href="/console/complaints/{order_id}-CP1"' in header

        scores = html[html.index('data-testid="scores"'):]
        scores = scores[:scores.index("</dd>")]
        # survey order (timeliness, completeness, courtesy); the two scores <= 2 marked low
        assert [m for m in re.findall(r'data-low="true"|<span>', scores)] == [
            'data-low="true"', 'data-low="true"', "<span>"]
        assert _text(scores).count(said[3]) == 2

        # the same score order on the complaint's page as on the order's (the survey's)
        questions = [words for words in (catalogue(lang)[f"order.question.{q}"]
                                         for q in SURVEY_QUESTIONS)]
        complaint = _text((await api.http.get(f"/console/complaints/{order_id}-CP1")).text)
        for page_text in (_text(scores), complaint):
            at = [page_text.index(f"{q} ") for q in questions]
            assert at == sorted(at), (lang, page_text)

        lines = html[html.index('data-testid="lines"') - 40:]
        assert 'class="fold lines"' in lines[:80]
        assert 'data-col="shipped" data-label=' in lines and 'data-col="delivered"' in lines
