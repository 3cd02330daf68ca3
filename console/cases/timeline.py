"""A case's timeline on its page: the claim's or complaint's entries and its escalations'
steps, told in the same sentences as the order and audit pages (console/audit/story.py),
with the same kind filter (templates/console/_story.html)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from console.audit import story
from console.i18n import Viewer
from db.orders.case_story import case_story
from db.orders.story import STORY_LIMIT, StoryKind


def page_context(session: Session, viewer: Viewer, kind: StoryKind, case_id: str,
                 requested: Iterable[str]) -> dict[str, Any]:
    """What _story.html needs for the case: its rows of the chosen kinds (the case's own,
    its escalations'), and the filter's state."""
    offered = [kind, StoryKind.ESCALATION]
    chosen = [k for k in offered if k in story.chosen_kinds(requested)] or offered
    items, cut = case_story(session, kind, case_id,
                            with_escalations=StoryKind.ESCALATION in chosen)
    if kind not in chosen:
        items = [i for i in items if i.kind != kind]
    return {"story_rows": story.rows(viewer, items),
            "story_kinds": [k.value for k in chosen],
            "story_all_kinds": [k.value for k in offered],
            "story_truncated": cut, "story_limit": STORY_LIMIT}
