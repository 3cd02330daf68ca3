"""Which stored values are personal data (issue 17 §6): the one inventory the split of chained
rows (db/personal/placeholders.py) and the retention's redaction (db/personal/redact.py) read.

Personal: a customer's name, phone and e-mail; the destination's address, contact and phone; the
proof-of-delivery signer and the driver; a receipt's or a claim document's file name (people
name files after people); and every free text people type (notes, cancel and change reasons,
exception texts, call notes, survey suggestions and comments, complaint descriptions, replies,
plans and resolutions, claim descriptions and contact notes, escalation comments and
resolution texts). Business facts are not: ids, SKUs, quantities, times, stages, codes
(exception reasons, resolution codes, outcomes), amounts, customer_id, tier, city, postcode.

A path is dotted keys inside a row (`data.survey.comment`); `[]` steps into every element of a
list (`state.decisions[].decided_by`). A path that is absent or null in a row is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping

# What a redacted value reads as, everywhere (the API, exports, the console): documented in
# the README. A text, not null, because many of these columns and fields are non-null text.
REDACTED = "[redacted]"

ORDER_EVENTS = "order_events"
ESCALATION_EVENTS = "escalation_events"
CLAIM_EVENTS = "claim_events"
COMPLAINT_EVENTS = "complaint_events"

# The column that says which kind of row a chained row is (its event type, a step's action).
TYPE_COLUMN: dict[str, str] = {
    ORDER_EVENTS: "type", ESCALATION_EVENTS: "action", CLAIM_EVENTS: "type",
    COMPLAINT_EVENTS: "type",
}
ANY = "*"  # paths personal in every row of the table, whatever its type

# Chained tables: per table and row type, the paths that hold personal data. Only dict steps
# (no `[]`): a placeholder replaces one value. Documents hold none (content type, size, sha256
# and the key that uploaded it).
CHAINED: dict[str, dict[str, tuple[str, ...]]] = {
    ORDER_EVENTS: {
        "shipped": ("data.driver",),
        "delivered": ("data.signer",),
        "receipt_returned": ("data.document.filename",),
        "receipt_version": ("data.filename", "data.document.filename"),
        "survey_response": ("data.suggestions", "data.comment"),
        "cancelled": ("data.reason",),
        "note": ("data.text",),
        "promise_changed": ("data.reason",),
        "stock_shortage": ("data.note",),
        "shortage_decision": ("data.decided_by", "data.note"),
        "delivery_exception": ("data.text",),
        "follow_up_call": ("data.suggestions", "data.note", "data.comment"),
    },
    CLAIM_EVENTS: {
        "opened": ("data.description",),
        "customer_contacted": ("data.note",),
        "document_added": ("data.filename",),
        "liability_decided": ("data.note",),
        "compensation_set": ("data.reason", "data.note", "data.override.reason"),
        "payout_issued": ("data.note",),
        "withdrawn": ("data.reason",),
        "note": ("data.text",),
        "basis_set": ("data.reason", "data.note"),
        "basis_changed": ("data.reason",),
    },
    COMPLAINT_EVENTS: {
        "opened": ("data.description", "data.survey.suggestions", "data.survey.comment"),
        "first_reply": ("data.text", "data.plan"),
        "resolved": ("data.text",),
        "satisfaction": ("data.comment",),
        "note": ("data.text",),
    },
    ESCALATION_EVENTS: {
        ANY: ("comment",),
        "resolved": ("detail.text",),
    },
}

_CUSTOMER = ("name", "phone", "email")
_DESTINATION = ("address", "contact", "phone")
# The order's state as the workflow projects it (workflows/order/types.py OrderState), kept in
# both `orders.state` (whole) and `orders.detail` (its parts): the same paths under each.
_ORDER_PARTS = (
    "shipment.driver", "delivery.signer", "receipt.document.filename",
    "receipt.versions[].filename", "survey.suggestions", "survey.comment",
    "survey.calls[].note", "cancel_reason", "decisions[].decided_by", "exceptions[].text",
)

# Mutable tables, per table: the paths redaction overwrites with REDACTED. Rows are the
# order's (by `order_id`), or the complaint's for a complaint with no order.
MUTABLE: dict[str, tuple[str, ...]] = {
    "orders": (
        *(f"customer.{k}" for k in _CUSTOMER), *(f"destination.{k}" for k in _DESTINATION),
        *(f"state.customer.{k}" for k in _CUSTOMER),
        *(f"state.destination.{k}" for k in _DESTINATION),
        *(f"state.{p}" for p in _ORDER_PARTS), *(f"detail.{p}" for p in _ORDER_PARTS),
    ),
    "follow_ups": ("suggestions",),
    "claims": ("override_reason", "detail.description",
               *(f"detail.customer.{k}" for k in _CUSTOMER), "detail.documents[].filename",
               "detail.basis_changes[].reason"),
    "complaints": (*(f"customer.{k}" for k in _CUSTOMER), "description", "reply", "plan",
                   "resolution", "satisfaction_comment", "survey.suggestions",
                   "survey.comment"),
    "escalations": ("resolution",),
    # A notification's text and payload name the customer; a customer's address is theirs.
    "outbox": ("subject", "body", "last_error"),
    "inbox_items": ("title", "body"),
}
# Whole JSON objects replaced by REDACTED_OBJECT (their readers expect an object).
REDACTED_OBJECT: dict[str, bool] = {"redacted": True}
MUTABLE_OBJECTS: dict[str, tuple[str, ...]] = {"outbox": ("payload",)}
# An outbox row to a customer (audience `customer`) also has the customer's e-mail or phone as
# its recipient, which is redacted too; a staff row's recipient is a team.


def chained_paths(table: str, row: Mapping[str, object]) -> tuple[str, ...]:
    """The personal paths of one chained row of `table` (by its type column)."""
    by_type = CHAINED.get(table)
    if not by_type:
        return ()
    kind = str(row.get(TYPE_COLUMN[table], ""))
    return by_type.get(ANY, ()) + by_type.get(kind, ())
