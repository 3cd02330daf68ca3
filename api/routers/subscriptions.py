"""Webhook subscriptions (admin only): who receives which events, and with which secret."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import Principal, Role, SessionDep, require
from api.errors import ApiError
from api.notification_schemas import (
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionList,
    SubscriptionPatch,
    SubscriptionView,
)
from db import subscriptions as repo
from db.notification_models import WebhookSubscription

log = logging.getLogger("waybill.api")

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])

Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
NOT_FOUND = {404: {"description": "subscription_not_found"}}


def _load(session: SessionDep, subscription_id: str) -> WebhookSubscription:
    row = repo.get(session, subscription_id)
    if row is None:
        raise ApiError(404, "subscription_not_found", f"no subscription {subscription_id}",
                       subscription_id=subscription_id)
    return row


@router.post("", status_code=201, response_model=SubscriptionCreated,
             description="Subscribe a URL to event types. The response holds the signing "
                         "secret; it is never shown again.")
def create_subscription(body: SubscriptionCreate, who: Admin,
                        session: SessionDep) -> SubscriptionCreated:
    row, secret = repo.create(session, body.url, [e.value for e in body.event_types],
                              body.description, who.name)
    log.info("webhook subscription created", extra={
        "subscription_id": row.id, "event_types": row.event_types, "by": who.name})
    return SubscriptionCreated(**SubscriptionView.model_validate(row).model_dump(),
                               secret=secret)


@router.get("", response_model=SubscriptionList)
def list_subscriptions(_: Admin, session: SessionDep) -> SubscriptionList:
    return SubscriptionList(items=[SubscriptionView.model_validate(r)
                                   for r in repo.list_all(session)])


@router.get("/{subscription_id}", response_model=SubscriptionView, responses=NOT_FOUND)
def get_subscription(subscription_id: str, _: Admin, session: SessionDep) -> SubscriptionView:
    return SubscriptionView.model_validate(_load(session, subscription_id))


@router.patch("/{subscription_id}", response_model=SubscriptionView, responses=NOT_FOUND,
              description="Change the URL, event types, description or `active`; setting "
                          "`active: true` re-enables a disabled subscription and resets its "
                          "failure count.")
def update_subscription(subscription_id: str, body: SubscriptionPatch, who: Admin,
                        session: SessionDep) -> SubscriptionView:
    row = _load(session, subscription_id)
    repo.change(session, row, repo.Changes(
        url=body.url, description=body.description, active=body.active,
        event_types=[e.value for e in body.event_types] if body.event_types else None),
        who.name)
    log.info("webhook subscription changed", extra={
        "subscription_id": row.id, "fields": sorted(body.model_fields_set), "by": who.name})
    return SubscriptionView.model_validate(row)


@router.delete("/{subscription_id}", response_model=SubscriptionView, responses=NOT_FOUND,
               description="Remove a subscription; returns it as it was. Messages not yet "
                           "delivered to it are skipped.")
def delete_subscription(subscription_id: str, who: Admin,
                        session: SessionDep) -> SubscriptionView:
    row = _load(session, subscription_id)
    view = SubscriptionView.model_validate(row)
    repo.delete(session, row)
    log.info("webhook subscription deleted", extra={"subscription_id": row.id, "by": who.name})
    return view
