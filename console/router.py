"""Everything under /console, as one router for api/app.py to include."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from console import (
    audit_routes,
    auth_routes,
    board_routes,
    escalation_routes,
    kpi_routes,
    new_order,
    order_actions,
    order_receipt,
    order_routes,
    report_routes,
    static_routes,
    webhook_routes,
)
from console.deps import guard, install

# `guard`: every route under /console is checked against the permission table first.
router = APIRouter(prefix="/console", include_in_schema=False, dependencies=[Depends(guard)])
router.include_router(new_order.router)  # before /orders/{order_id} would claim "new"
for _module in (auth_routes, board_routes, order_routes, order_actions, order_receipt,
                static_routes):
    router.include_router(_module.router)
router.include_router(escalation_routes.router)
router.include_router(audit_routes.router)
router.include_router(kpi_routes.router)
router.include_router(report_routes.router)
router.include_router(webhook_routes.router)

__all__ = ["install", "router"]
