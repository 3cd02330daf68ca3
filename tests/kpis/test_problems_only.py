"""Issue 18 §6: a suggestion is no problem. A report stored before that rule (its problems list
holding "suggestion") reads as reports now do, so the page's late figures do not count the
rule as a change."""

from __future__ import annotations

from kpis.follow_up_report import problems_only
from kpis.late import figures


def _figures(*problems: tuple[str, int]) -> dict:
    return {"due": 3, "problems": [{"label": label, "count": n} for label, n in problems],
            "suggestions": [{"label": "Thanks, all fine.", "count": 2}]}


def test_a_stored_report_loses_only_the_suggestion_problem() -> None:
    stored = {"month": "2026-11",
              "total": _figures(("suggestion", 3), ("low_score:timeliness", 1)),
              "by_customer": [{"key": "C-A", "figures": _figures(("suggestion", 2),
                                                                  ("goods_not_ok", 1))}],
              "by_tier": [{"key": "standard", "figures": _figures(("suggestion", 3))}]}
    now = problems_only(stored)
    assert now["total"]["problems"] == [{"label": "low_score:timeliness", "count": 1}]
    assert now["by_customer"][0]["figures"]["problems"] == [{"label": "goods_not_ok",
                                                             "count": 1}]
    assert now["by_tier"][0]["figures"]["problems"] == []
    # the suggestions themselves stay, listed by their text
    assert now["total"]["suggestions"] == stored["total"]["suggestions"]
    assert stored["total"]["problems"][0]["label"] == "suggestion"  # the stored body untouched
    recomputed = {**now, "total": _figures(("low_score:timeliness", 1))}
    assert figures(now, recomputed) == []
