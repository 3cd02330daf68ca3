"""Issue 17 §5 on a whole story: an order escalated (and its notice read), noted, cancelled,
claimed and complained about exports every kind, in both files and in the dossier, with what
people wrote whole and unescaped."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from pypdf import PdfReader

from tests.support.api_harness import Api
from tests.support.story_harness import RESOLUTION, STORY_KINDS, STORY_LADDER, told_order

pytestmark = pytest.mark.one_engine  # the SQL is the story's, run on both engines elsewhere


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"policy": STORY_LADDER}


async def test_every_kind_is_in_the_files_and_the_dossier(api: Api) -> None:
    order_id, _ = await told_order(api)
    base = f"/v1/orders/{order_id}/audit"
    rows = [json.loads(line) for line in
            (await api.get(f"{base}/story.jsonl", role="auditor", lang="en")).text.splitlines()]
    assert {r["kind"] for r in rows} == STORY_KINDS
    resolved = next(r for r in rows if r["kind"] == "escalation" and r["type"] == "waived")
    assert RESOLUTION in resolved["texts"] and "admin" in resolved["sentence"]
    assert all(r["sentence"] and "{" not in r["sentence"] for r in rows)

    raw = (await api.get(f"{base}/story.csv", role="auditor", lang="zh-CN")).content
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0][:4] == ["订单", "类别", "类型", "经过"]
    assert {row[1] for row in table[1:]} == STORY_KINDS and len(table) == len(rows) + 1
    assert any(RESOLUTION in cell for row in table for cell in row)

    pdf = (await api.get(f"{base}/dossier.pdf", role="auditor", lang="zh-CN")).content
    pages = PdfReader(io.BytesIO(pdf)).pages
    # pypdf reads fpdf2's two-byte codes with a NUL before each character (test_dossier.py)
    text = "".join(p.extract_text() for p in pages).replace("\x00", "").replace("\n", "")
    assert "两天没有消息。" in text and "客户撤单" in text and "审计链校验" in text
    assert RESOLUTION in text  # whole, across the lines it wraps over
