"""SLA policies, versioned: admins read and add versions; a version is never edited."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.deps import Principal, SessionDep, require
from api.edge import text
from api.edge.text import contains_nul
from api.errors import ApiError
from db.policies import queries as repo
from db.policies.models import SlaPolicyVersion
from policies import PolicyError, normalise_body, parse_policy

router = APIRouter(prefix="/v1/sla-policies", tags=["sla-policies"])

Admin = Annotated[Principal, Depends(require("policy.manage"))]
# A policy travels in every new order's workflow input (and every claim's): one far below the
# workflow payload limit (WAYBILL_MAX_WORKFLOW_PAYLOAD_BYTES) keeps orders from being refused
# for it. The example below is about 1 KiB; ten years of holidays about 20 KiB.
MAX_POLICY_BYTES = 64 * 1024
PolicyName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_-]*$")]

EXAMPLE = {
    "confirm_within": "PT4H", "pick_within": "PT12H", "scan_gap": "PT6H",
    "receipt_within": "P3D", "survey_after": "P1D", "survey_window": "P3D",
    "escalation": {
        "repeat_every": "PT2H", "snooze_max": "PT4H", "start_level": 1,
        "key_account_start_level": 2,
        "levels": [
            {"level": 1, "recipients": ["ops_desk"], "ack_within": "PT15M",
             "resolve_within": "PT2H"},
            {"level": 2, "recipients": ["supervisor"], "ack_within": "PT30M",
             "resolve_within": "PT4H"},
            {"level": 3, "recipients": ["cs_manager", "key_account_manager"],
             "ack_within": "PT1H", "resolve_within": "PT8H"}]},
    "calendar": {"timezone": "Asia/Shanghai",
                 "hours": {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
                 # China's public holidays and make-up working days (policies/calendars/)
                 "holidays_from": ["cn-2026", "cn-2027"]},
}


class PolicyVersionView(BaseModel):
    name: str
    version: int
    source: str
    created_at: Any
    created_by: str
    body: dict[str, Any]


class PolicyDetail(PolicyVersionView):
    versions: list[int]


class PolicyList(BaseModel):
    items: list[PolicyVersionView]


def _view(row: SlaPolicyVersion) -> PolicyVersionView:
    return PolicyVersionView.model_validate(row, from_attributes=True)


def _detail(session: Session, row: SlaPolicyVersion) -> PolicyDetail:
    return PolicyDetail(**_view(row).model_dump(),
                        versions=[v.version for v in repo.versions(session, row.name)])


@router.get("", response_model=PolicyList, description="The newest version of every policy.")
def list_policies(_: Admin, session: SessionDep) -> PolicyList:
    return PolicyList(items=[_view(r) for r in repo.all_latest(session)])


@router.get("/{name}", response_model=PolicyDetail)
def get_policy(name: PolicyName, _: Admin, session: SessionDep,
               version: int | None = Query(default=None, ge=1, le=2**31 - 1)) -> PolicyDetail:
    row = repo.latest(session, name) if version is None else repo.get_version(session, name,
                                                                              version)
    if row is None:
        raise ApiError(404, "policy_not_found", f"no SLA policy {name!r}"
                       + (f" version {version}" if version else ""), name=name, version=version)
    return _detail(session, row)


@router.put("/{name}", status_code=201, response_model=PolicyDetail,
            description="Add a new version. Running orders keep the version they started "
                        "with; orders created afterwards get this one.")
def put_policy(name: PolicyName, who: Admin, session: SessionDep,
               body: Annotated[dict[str, Any], Body(examples=[EXAMPLE])]) -> PolicyDetail:
    try:
        parse_policy(name, body, "request body")
    except PolicyError as exc:
        raise ApiError(422, "invalid_policy", str(exc), name=name) from exc
    if contains_nul(body):  # a free-form body: api.schemas.Strict does not see it
        raise ApiError(422, "invalid_policy", text.MESSAGE, name=name)
    stored = normalise_body(body)
    size = len(json.dumps(stored, separators=(",", ":")).encode())
    if size > MAX_POLICY_BYTES:
        raise ApiError(422, "policy_too_large", f"the policy is {size} bytes as JSON; at most "
                       f"{MAX_POLICY_BYTES} are allowed", name=name, size=size,
                       max_bytes=MAX_POLICY_BYTES)
    row = repo.add_version(session, name, stored, repo.SOURCE_API, who.name)
    return _detail(session, row)
