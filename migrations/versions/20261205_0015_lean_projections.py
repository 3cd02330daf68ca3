"""Lean projections: `orders.state` and the `order_scans` table.

An order's workflow now sends its read model only what changed (workflows/order/changes.py):
`orders.state` keeps the state as last written (without scans), the base the next change is
applied to, and each tracking scan is a row of `order_scans` instead of an item of
`orders.detail`, which was rewritten whole at every event. Existing orders keep their state
NULL (their workflows go on sending whole states, or a complete first change); their scans
move from `detail` into `order_scans`.

Downgrading puts the scans back into `detail` and drops both.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from db.columns import JsonType, UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_orders = sa.table("orders", sa.column("order_id", sa.String), sa.column("detail", JsonType))
_scans = sa.table(
    "order_scans", sa.column("order_id", sa.String), sa.column("event_id", sa.String),
    sa.column("occurred_at", UTCDateTime()), sa.column("location", sa.Text),
    sa.column("status", sa.Text), sa.column("eta", UTCDateTime()),
    sa.column("seen_at", UTCDateTime()))


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("state", JsonType, nullable=True))
    op.create_table(
        "order_scans",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("eta", UTCDateTime(), nullable=True),
        sa.Column("seen_at", UTCDateTime(), nullable=True),
    )
    _move_scans_out_of_detail()


def _move_scans_out_of_detail() -> None:
    bind = op.get_bind()
    for order_id, detail in bind.execute(sa.select(_orders.c.order_id, _orders.c.detail)):
        scans: list[dict[str, Any]] = (detail or {}).get("scans") or []
        if scans:
            bind.execute(_scans.insert(), [_scan_row(order_id, scan) for scan in scans])


def _scan_row(order_id: str, scan: dict[str, Any]) -> dict[str, Any]:
    return {"order_id": order_id, "event_id": scan["event_id"],
            "occurred_at": _when(scan["occurred_at"]), "location": scan.get("location", ""),
            "status": scan.get("status", ""), "eta": _when(scan.get("eta")),
            "seen_at": _when(scan.get("seen_at"))}


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def downgrade() -> None:
    bind = op.get_bind()
    by_order: dict[str, list[dict[str, Any]]] = {}
    for row in bind.execute(sa.select(_scans).order_by(_scans.c.occurred_at, _scans.c.event_id)):
        by_order.setdefault(row.order_id, []).append(
            {"event_id": row.event_id, "occurred_at": _iso(row.occurred_at),
             "location": row.location, "status": row.status, "eta": _iso(row.eta),
             "seen_at": _iso(row.seen_at)})
    for order_id, scans in by_order.items():
        detail = bind.execute(sa.select(_orders.c.detail)
                              .where(_orders.c.order_id == order_id)).scalar()
        bind.execute(_orders.update().where(_orders.c.order_id == order_id)
                     .values(detail={**(detail or {}), "scans": scans}))
    op.drop_table("order_scans")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("state")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
