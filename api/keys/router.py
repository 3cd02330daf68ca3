"""API keys (admin only): list them, create one (the key is returned once), revoke one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import Principal, SessionDep, require
from api.keys import service as key_admin
from api.keys.schemas import KeyCreate, KeyCreated, KeyList, KeyView
from db.keys import queries as repo

router = APIRouter(prefix="/v1/keys", tags=["keys"])

Admin = Annotated[Principal, Depends(require("keys.manage"))]


@router.get("", response_model=KeyList,
            description="Every key, revoked and expired ones included, oldest first: name, "
                        "role, prefix, scope, created, expires, revoked. Never a key or hash.")
def list_keys(_: Admin, session: SessionDep) -> KeyList:
    return KeyList(items=[key_admin.view(r) for r in repo.list_keys(session)])


@router.post("", status_code=201, response_model=KeyCreated,
             responses={422: {"description": "scope_needs_integration, "
                                             "scope_event_type_not_allowed, expires_in_past"}})
def create_key(body: KeyCreate, who: Admin, session: SessionDep,
               response: Response) -> KeyCreated:
    row, key = key_admin.create(session, body, who.name)
    response.headers["Location"] = f"/v1/keys/{row.id}"
    response.headers["Cache-Control"] = "no-store"  # the key is in the body
    return KeyCreated(**key_admin.view(row).model_dump(), key=key)


@router.post("/{key_id}/revoke", response_model=KeyView,
             description="Revoked at once: the next request with the key is 401 `key_revoked` "
                         "and its console sessions end. Revoking again changes nothing.",
             responses={404: {"description": "key_not_found"}})
def revoke_key(key_id: int, who: Admin, session: SessionDep) -> KeyView:
    return key_admin.view(key_admin.revoke(session, key_id, who.name))
