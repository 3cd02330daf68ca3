"""Webhook subscriptions (admin only): who receives which events, with which secret, and
what was delivered to them (the delivery log, redelivery)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from api.deps import Principal, SessionDep, SettingsDep, TemporalDep, require
from api.edge.units import DbDep
from api.notifications import service
from api.notifications.schemas import (
    DeliveryPage,
    DeliveryView,
    SecretRotated,
    SecretRotation,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionList,
    SubscriptionPatch,
    SubscriptionView,
)
from db.notifications import subscriptions as repo
from db.notifications.models import OutboxStatus

log = logging.getLogger("waybill.api")

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])

Admin = Annotated[Principal, Depends(require("subscription.manage"))]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "subscription_not_found"}}


@router.post("", status_code=201, response_model=SubscriptionCreated,
             description="Subscribe a URL to event types. The response holds the signing "
                         "secret; it is never shown again. A URL that is not https, or names a "
                         "private, loopback, link-local, multicast or reserved address, is 422 "
                         "`webhook_target_forbidden`.")
def create_subscription(body: SubscriptionCreate, who: Admin, session: SessionDep,
                        settings: SettingsDep) -> SubscriptionCreated:
    service.check_target(body.url, settings)
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
    return SubscriptionView.model_validate(service.load(session, subscription_id))


@router.patch("/{subscription_id}", response_model=SubscriptionView, responses=NOT_FOUND,
              description="Change the URL, event types, description or `active`; setting "
                          "`active: true` re-enables a disabled subscription and resets its "
                          "failure count.")
def update_subscription(subscription_id: str, body: SubscriptionPatch, who: Admin,
                        session: SessionDep, settings: SettingsDep) -> SubscriptionView:
    if body.url is not None:
        service.check_target(body.url, settings)
    row = service.load(session, subscription_id)
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
    row = service.load(session, subscription_id)
    view = SubscriptionView.model_validate(row)
    repo.delete(session, row)
    log.info("webhook subscription deleted", extra={"subscription_id": row.id, "by": who.name})
    return view


@router.post("/{subscription_id}/rotate-secret", response_model=SecretRotated,
             responses=NOT_FOUND,
             description="Replace the signing secret. The response holds the new secret, "
                         "shown only here; until `overlap_seconds` (default a day, at most 7 "
                         "days) have passed, deliveries carry both signatures.")
def rotate_secret(subscription_id: str, who: Admin, session: SessionDep,
                  body: Annotated[SecretRotation | None, Body()] = None) -> SecretRotated:
    overlap = (body or SecretRotation()).overlap_seconds
    row, secret = service.rotate(session, subscription_id, overlap, who.name)
    return SecretRotated(**SubscriptionView.model_validate(row).model_dump(), secret=secret)


@router.get("/{subscription_id}/deliveries", response_model=DeliveryPage, responses=NOT_FOUND,
            description="The subscription's delivery log, newest first: per message (its "
                        "`id` is the `webhook-id`) the status, attempts and the last HTTP "
                        "status; never what the receiver answered.")
def list_deliveries(subscription_id: str, _: Admin, session: SessionDep,
                    status: OutboxStatus | None = None,
                    limit: int = Query(default=50, ge=1, le=200),
                    cursor: Annotated[str | None, Query(max_length=200)] = None
                    ) -> DeliveryPage:
    rows, next_cursor = service.delivery_page(session, subscription_id, status, limit, cursor)
    return DeliveryPage(items=[DeliveryView.model_validate(r) for r in rows],
                        next_cursor=next_cursor)


@router.post("/{subscription_id}/deliveries/{delivery_id}/redeliver", status_code=202,
             response_model=DeliveryView,
             responses={404: {"description": "subscription_not_found, delivery_not_found"},
                        409: {"description": "not_redeliverable, delivery_in_progress, "
                                             "subscription_disabled"},
                        503: {"description": "temporal_unavailable (the sweep sends it "
                                             "within minutes; calling again is safe)"}},
             description="Send a delivered or failed message again, with the same "
                         "`webhook-id` (a pending one: make sure its delivery runs).")
async def redeliver(subscription_id: str, delivery_id: str, who: Admin, db: DbDep,
                    temporal: TemporalDep, settings: SettingsDep) -> DeliveryView:
    row = await service.redeliver(db, temporal, settings, subscription_id, delivery_id,
                                  who.name)
    return DeliveryView.model_validate(row)
