"""What the audit chain endpoints answer."""

from __future__ import annotations

from pydantic import BaseModel, Field


class BrokenLink(BaseModel):
    problem: str = Field(description="row_edited, row_deleted, row_unlinked, link_missing, "
                                     "link_broken, link_edited, head_mismatch, "
                                     "checkpoint_mismatch, checkpoint_missing, "
                                     "checkpoint_signature or checkpoint_key_unknown; "
                                     "personal_value_edited or personal_value_deleted "
                                     "(a kept personal value, issue 17 §6)")
    message: str
    seq: int | None = Field(default=None, description="the link's place in the chain")
    table: str | None = None
    key: str | None = Field(default=None, description="the row's natural key, a JSON array")


class ChainVerdict(BaseModel):
    order_id: str
    ok: bool
    links_checked: int = Field(description="links found intact before the first broken one")
    first_broken: BrokenLink | None = None
    problems: list[BrokenLink] = Field(
        default_factory=list, description="every break found, in chain order (first_broken "
        "is the first of them), at most 100")
