"""Signed customer links (shared/survey_links.py): each purpose's token opens only its own page."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import Settings
from shared.survey_links import links_for, opt_out_links_for, tracking_links_for

pytestmark = pytest.mark.unit


def test_a_token_opens_only_the_page_it_was_issued_for(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, public_base_url="https://waybill.example")
    survey, tracking, opt_out = (links_for(settings), tracking_links_for(settings),
                                 opt_out_links_for(settings))
    for links, path in ((survey, "/s/"), (tracking, "/t/"), (opt_out, "/u/")):
        token = links.token("SO-1")
        assert links.url("SO-1") == f"https://waybill.example{path}{token}"
        assert links.order_id(token) == "SO-1"
    assert tracking.order_id(survey.token("SO-1")) is None
    assert survey.order_id(tracking.token("SO-1")) is None
    assert opt_out.order_id(tracking.token("SO-1")) is None
    assert tracking.token("SO-1") != tracking.token("SO-2")
