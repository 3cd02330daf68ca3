"""Everything under /console, as one router for api/app.py to include."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from console import auth_routes, static_routes
from console.audit import routes as audit_routes
from console.board import routes as board_routes
from console.claims import routes as claim_routes
from console.complaints import routes as complaint_routes
from console.deps import guard, install
from console.escalations import routes as escalation_routes
from console.imports import routes as import_routes  # issue 19 §4
from console.kpis import routes as kpi_routes
from console.orders import actions as order_actions
from console.orders import listing as order_listing
from console.orders import live as order_live
from console.orders import new as new_order
from console.orders import receipt as order_receipt
from console.orders import record as order_record
from console.orders import routes as order_routes
from console.reports import routes as report_routes
from console.webhooks import routes as webhook_routes

# `guard`: every route under /console is checked against the permission table first.
router = APIRouter(prefix="/console", include_in_schema=False, dependencies=[Depends(guard)])
router.include_router(new_order.router)  # before /orders/{order_id} would claim "new"
router.include_router(import_routes.router)  # issue 19 §4; before /orders/{order_id} too
for _module in (auth_routes, board_routes, order_routes, order_actions, order_record,
                order_receipt, static_routes):
    router.include_router(_module.router)
router.include_router(escalation_routes.router)
# issue 18 §1: the claims and complaints pages
router.include_router(claim_routes.router)
router.include_router(complaint_routes.router)
router.include_router(audit_routes.router)
router.include_router(kpi_routes.router)
router.include_router(report_routes.router)
router.include_router(webhook_routes.router)
# Issue 18 §4/§5: the closed/cancelled list behind the board's counts; the order page's poll.
router.include_router(order_listing.router)
router.include_router(order_live.router)

__all__ = ["install", "router"]
