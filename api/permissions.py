"""The permission table: which role may do which action, and which action every route is.

One place for the rule (issue 14): every API route depends on `api.deps.require(<action>)`,
the console's pages check the same actions (console/session.py builds its ACTIONS from here),
and the README's role tables are checked against it (tests/api/test_permissions.py). Events are
actions of their own, one per type (`order.event.<type>`, `claim.event.<type>`,
`complaint.event.<type>`), so a staff-only event cannot be sent through a generic endpoint.

Framework-free on purpose: the CLI and the tests read it without building an app.

`python -m api.permissions --markdown` prints the role table for the README.
"""

from __future__ import annotations

import sys
from enum import StrEnum

from workflows.claim.types import OVERRIDE_ROLES, ClaimEventType
from workflows.complaint.types import ComplaintEventType
from workflows.order.event_data import EVENTS
from workflows.order.event_spec import SentBy
from workflows.order.types import EventType


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    INTEGRATION = "integration"
    AUDITOR = "auditor"
    ADMIN = "admin"


ALL = frozenset(Role)
# Operators and supervisors do the same work; supervisors hold extra rights (claim overrides).
STAFF = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})
READERS = STAFF | {Role.AUDITOR}  # staff and auditors: everything read-only beyond orders
WRITERS = STAFF | {Role.INTEGRATION}  # who may feed an order's path
ADMIN = frozenset({Role.ADMIN})
# Who may go beyond the claim's compensation standard. The claim workflow's validator checks it
# too, from the key's role, and cannot import this module: the set is its, read here.
SUPERVISORS = frozenset(Role(r) for r in OVERRIDE_ROLES)
# Who may sign in to the console: people, not machines.
CONSOLE = READERS

# Order events the machines on the path send (intake, WMS, carriers, POD apps, survey tools);
# staff may enter them by hand too (a carrier phones in a delivery). Every other event type is
# a staff decision: cancelling, notes, promise changes, the customer's shortage choice and
# follow-up calls (which end a customer's survey). Each event type's declaration says which
# (workflows/order/event_data.py EVENTS, `sent_by`).
INTEGRATION_EVENTS = frozenset(t for t, spec in EVENTS.items()
                               if spec.sent_by == SentBy.INTEGRATION)

PERMISSIONS: dict[str, frozenset[Role]] = {
    "order.create": WRITERS,
    "order.read": ALL,
    "order.history.read": frozenset({Role.AUDITOR, Role.ADMIN}),
    **{f"order.event.{t.value}": WRITERS if t in INTEGRATION_EVENTS else STAFF
       for t in EventType},
    "receipt.upload": WRITERS,  # the POD app returns the signed receipt
    "receipt.read": ALL,
    "claim.open": WRITERS,
    "claim.read": ALL,
    **{f"claim.event.{t.value}": STAFF for t in ClaimEventType
       if t not in (ClaimEventType.DOCUMENT_ADDED,  # documents: claim.document.upload
                    ClaimEventType.BASIS_SET)},
    # Recording or changing the compensation basis (weight, declared value), and compensation
    # above the standard cap: supervisors (the claim workflow's validator refuses others too).
    "claim.event.basis_set": SUPERVISORS,
    "claim.compensation.override": SUPERVISORS,
    "claim.document.upload": STAFF,
    "claim.document.read": ALL,
    "complaint.open": WRITERS,
    "complaint.read": ALL,
    **{f"complaint.event.{t.value}": STAFF for t in ComplaintEventType},
    "escalation.read": READERS,
    "escalation.acknowledge": STAFF,
    "escalation.resolve": STAFF,
    "escalation.reassign": STAFF,
    "escalation.snooze": STAFF,
    "inbox.read": STAFF,
    "kpis.read": READERS,
    "policy.manage": ADMIN,
    "subscription.manage": ADMIN,
    "keys.manage": ADMIN,
    # Issue 17 §4, the codec endpoint (api/codec/): decoding shows personal data, encoding
    # makes payloads a worker would accept.
    "codec.decode": frozenset({Role.AUDITOR, Role.ADMIN}),
    "codec.encode": ADMIN,
    "console.sign_in": CONSOLE,
    "console.read": CONSOLE,  # board, order pages, escalation queue, preferences
    # Issue 17 §3: verify an order's audit chain, export it to verify offline.
    "order.audit": frozenset({Role.AUDITOR, Role.ADMIN}),
    # Issue 18 §4: the link to an order's workflow in the Temporal Web UI, on the order page
    # only. That UI offers cancel, terminate and signal buttons around every business rule, so
    # only those who investigate (supervisors, auditors) and admins see the link; operators work
    # through the console's own actions.
    "temporal_ui.view": frozenset({Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN}),
    # Issue 17 §6: an erasure request redacts a closed order's personal data now.
    "order.personal_data.redact": ADMIN,
    # Issue 19 §1: the generic carrier feed (a carrier's or aggregator's key), and the record of
    # carrier pushes (unroutable ones among them) for those who follow up on them.
    "carrier_feed.post": WRITERS,
    "carrier_feed.read": READERS,
    # Issue 19 §3: a customer's notice channels (e-mail, SMS, both, none), set by staff when
    # the customer asks by phone; the customer sets them through the link in every message.
    "customer.notice_preferences.read": READERS,
    "customer.notice_preferences.write": STAFF,
    # Issue 19 §4: bulk import of orders from a file (staff, not integrations: those post
    # orders one by one through POST /v1/orders).
    "order.import": STAFF,
}

# A route whose body names the event type: the route admits a role that may send at least one
# type of the family, and the handler checks the type itself (api.deps.authorize).
FAMILIES = {"order.event": "order.event.*", "claim.event": "claim.event.*",
            "complaint.event": "complaint.event.*"}

PUBLIC = "public"  # no key and no session: health, docs, survey links, console sign-in

# Every route of the app, by method and path, with its action (tests/api/test_permissions.py
# fails on a route missing here, and on an API route whose `require` names another action).
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/s/{token}"): PUBLIC,  # the customer's survey link; the token is the credential
    ("POST", "/s/{token}"): PUBLIC,
    # Issue 19 §2: the customer's tracking page (the signed token is the credential) and its
    # lookup by tracking number and the phone's last four digits (rate-limited).
    ("GET", "/t/{token}"): PUBLIC,
    ("GET", "/t"): PUBLIC,
    ("POST", "/t"): PUBLIC,
    # Issue 19 §3: the notices' opt-out link (/u/<token>: the token is the credential), and
    # staff's side of the same choice.
    ("GET", "/u/{token}"): PUBLIC,
    ("POST", "/u/{token}"): PUBLIC,
    ("GET", "/v1/customers/{customer_id}/notice-preferences"):
        "customer.notice_preferences.read",
    ("PUT", "/v1/customers/{customer_id}/notice-preferences"):
        "customer.notice_preferences.write",
    ("POST", "/v1/orders"): "order.create",
    ("GET", "/v1/orders"): "order.read",
    ("GET", "/v1/orders/{order_id}"): "order.read",
    ("POST", "/v1/orders/{order_id}/events"): "order.event.*",
    ("POST", "/v1/orders/{order_id}/follow-up-call"): "order.event.follow_up_call",
    ("GET", "/v1/orders/{order_id}/timeline"): "order.read",
    ("GET", "/v1/orders/{order_id}/history"): "order.history.read",
    ("GET", "/v1/orders/{order_id}/audit/verify"): "order.audit",  # issue 17 §3
    ("GET", "/v1/orders/{order_id}/audit/chain"): "order.audit",
    # Issue 17 §5: exports of an order's story, its PDF dossier, and the time-range export.
    ("GET", "/v1/orders/{order_id}/audit/story.{fmt}"): "order.audit",
    ("GET", "/v1/orders/{order_id}/audit/dossier.pdf"): "order.audit",
    ("GET", "/v1/audit/export"): "order.audit",
    # Issue 17 §6: an erasure request for a closed order's personal data.
    ("POST", "/v1/orders/{order_id}/personal-data/redact"): "order.personal_data.redact",
    # Issue 19 §4: bulk import (template, upload, progress, report), API and console.
    ("GET", "/v1/orders/import/template.{fmt}"): "order.import",
    ("POST", "/v1/orders/imports"): "order.import",
    ("GET", "/v1/orders/imports"): "order.import",
    ("GET", "/v1/orders/imports/{import_id}"): "order.import",
    ("GET", "/v1/orders/imports/{import_id}/report.csv"): "order.import",
    ("GET", "/console/orders/import/template.{fmt}"): "order.import",
    ("GET", "/console/orders/imports"): "order.import",
    ("POST", "/console/orders/imports"): "order.import",
    ("GET", "/console/orders/imports/{import_id}"): "order.import",
    ("GET", "/console/orders/imports/{import_id}/live"): "order.import",
    ("GET", "/console/orders/imports/{import_id}/report.csv"): "order.import",
    ("POST", "/v1/orders/{order_id}/receipt"): "receipt.upload",
    ("GET", "/v1/orders/{order_id}/receipt"): "receipt.read",
    ("GET", "/v1/orders/{order_id}/receipt/versions"): "receipt.read",
    ("POST", "/v1/orders/{order_id}/claims"): "claim.open",
    ("GET", "/v1/claims"): "claim.read",
    ("GET", "/v1/claims/{claim_id}"): "claim.read",
    ("POST", "/v1/claims/{claim_id}/events"): "claim.event.*",
    ("POST", "/v1/claims/{claim_id}/documents"): "claim.document.upload",
    ("GET", "/v1/claims/{claim_id}/documents/{sha256}"): "claim.document.read",
    ("POST", "/v1/complaints"): "complaint.open",
    ("GET", "/v1/complaints"): "complaint.read",
    ("GET", "/v1/complaints/{complaint_id}"): "complaint.read",
    ("POST", "/v1/complaints/{complaint_id}/events"): "complaint.event.*",
    ("GET", "/v1/escalations"): "escalation.read",
    ("GET", "/v1/escalations/{escalation_id}"): "escalation.read",
    ("POST", "/v1/escalations/{escalation_id}/acknowledge"): "escalation.acknowledge",
    ("POST", "/v1/escalations/{escalation_id}/resolve"): "escalation.resolve",
    ("POST", "/v1/escalations/{escalation_id}/reassign"): "escalation.reassign",
    ("POST", "/v1/escalations/{escalation_id}/snooze"): "escalation.snooze",
    ("GET", "/v1/inbox"): "inbox.read",
    ("POST", "/v1/inbox/{item_id}/read"): "inbox.read",
    ("GET", "/v1/kpis"): "kpis.read",
    ("GET", "/v1/reports/follow-up-monthly"): "kpis.read",
    ("GET", "/v1/sla-policies"): "policy.manage",
    ("GET", "/v1/sla-policies/{name}"): "policy.manage",
    ("PUT", "/v1/sla-policies/{name}"): "policy.manage",
    ("POST", "/v1/subscriptions"): "subscription.manage",
    ("GET", "/v1/subscriptions"): "subscription.manage",
    ("GET", "/v1/subscriptions/{subscription_id}"): "subscription.manage",
    ("PATCH", "/v1/subscriptions/{subscription_id}"): "subscription.manage",
    ("DELETE", "/v1/subscriptions/{subscription_id}"): "subscription.manage",
    ("POST", "/v1/subscriptions/{subscription_id}/rotate-secret"): "subscription.manage",
    ("GET", "/v1/subscriptions/{subscription_id}/deliveries"): "subscription.manage",
    ("POST", "/v1/subscriptions/{subscription_id}/deliveries/{delivery_id}/redeliver"):
        "subscription.manage",
    ("GET", "/v1/keys"): "keys.manage",
    ("POST", "/v1/keys"): "keys.manage",
    ("POST", "/v1/keys/{key_id}/revoke"): "keys.manage",
    # Issue 17 §4: the codec server protocol (api/codec/); its CORS preflight is answered
    # before routing (api/codec/cors.py).
    ("POST", "/codec/decode"): "codec.decode",
    ("POST", "/codec/encode"): "codec.encode",
    # The same for the Temporal Web UI, admitted by the console session (console/codec/).
    ("POST", "/console/codec/decode"): "codec.decode",
    ("POST", "/console/codec/encode"): "codec.encode",
    # Issue 19 §1: carrier feeds (api/feeds/). Kuaidi100's push is PUBLIC (Kuaidi100 holds no
    # key of ours) but signature-checked: upper(MD5(param + WAYBILL_KUAIDI100_SALT)), refused
    # otherwise. The generic feed takes an API key.
    ("POST", "/v1/carrier-feeds/kuaidi100"): PUBLIC,
    ("POST", "/v1/carrier-feeds/events"): "carrier_feed.post",
    ("GET", "/v1/carrier-feeds/pushes"): "carrier_feed.read",
    # The console: its pages check these through console.deps (Page.allow / signed_in).
    ("GET", "/console/"): PUBLIC,  # a redirect to the board
    ("GET", "/console/sign-in"): PUBLIC,
    ("POST", "/console/sign-in"): PUBLIC,  # the key in the form is checked: console.sign_in
    ("POST", "/console/sign-out"): PUBLIC,  # ends this browser's session, if any
    ("POST", "/console/preferences"): PUBLIC,  # language/zone cookies work signed out too
    ("GET", "/console/static/{name}"): PUBLIC,
    ("GET", "/console/preferences"): "console.read",
    ("GET", "/console/board"): "console.read",
    ("GET", "/console/board/columns"): "console.read",
    # Issue 18 §4/§5: the list behind the board's closed/cancelled counts, and the order page's
    # poll for changes.
    ("GET", "/console/orders"): "console.read",
    ("GET", "/console/orders/{order_id}/live"): "console.read",
    ("GET", "/console/orders/new"): "order.create",
    ("POST", "/console/orders/new"): "order.create",
    ("GET", "/console/orders/{order_id}"): "console.read",
    ("POST", "/console/orders/{order_id}/notes"): "order.event.note",
    ("POST", "/console/orders/{order_id}/confirm"): "order.event.confirmed",
    ("POST", "/console/orders/{order_id}/cancel"): "order.event.cancelled",
    ("POST", "/console/orders/{order_id}/follow-up-call"): "order.event.follow_up_call",
    # The generic "record event" form of every event type that declares one; the page checks
    # `order.event.<type>` itself.
    ("POST", "/console/orders/{order_id}/events/{event_type}"): "order.event.*",
    # A refused action's page sits at its form's address: a reload there goes back to the order.
    ("GET", "/console/orders/{order_id}/notes"): "console.read",
    ("GET", "/console/orders/{order_id}/confirm"): "console.read",
    ("GET", "/console/orders/{order_id}/cancel"): "console.read",
    ("GET", "/console/orders/{order_id}/follow-up-call"): "console.read",
    ("GET", "/console/orders/{order_id}/events/{event_type}"): "console.read",
    ("GET", "/console/orders/{order_id}/receipt"): "console.read",
    ("POST", "/console/orders/{order_id}/receipt"): "receipt.upload",
    ("GET", "/console/escalations"): "console.read",
    ("GET", "/console/escalations/rows"): "console.read",
    ("GET", "/console/escalations/{escalation_id}"): "console.read",
    # One form route for the four escalation actions; all four have the same roles (a test
    # checks), the page checks `escalation.<action>`.
    ("POST", "/console/escalations/{escalation_id}/{action}"): "escalation.acknowledge",
    # Issue 18 §3: the triage queue's bulk acknowledge.
    ("POST", "/console/escalations/acknowledge-selected"): "escalation.acknowledge",
    ("GET", "/console/audit"): "order.history.read",
    ("GET", "/console/audit/orders/{order_id}"): "order.history.read",
    ("GET", "/console/audit/orders/{order_id}/timeline.{kind}"): "order.history.read",
    ("GET", "/console/audit/orders/{order_id}/history.{kind}"): "order.history.read",
    # Issue 17 §5: the story in the viewer's language, and the PDF dossier.
    ("GET", "/console/audit/orders/{order_id}/story.{kind}"): "order.audit",
    ("GET", "/console/audit/orders/{order_id}/dossier.pdf"): "order.audit",
    ("GET", "/console/kpis"): "kpis.read",
    ("GET", "/console/kpis.csv"): "kpis.read",
    ("GET", "/console/kpis.xlsx"): "kpis.read",
    ("GET", "/console/reports/follow-up-monthly"): "kpis.read",
    ("GET", "/console/reports/follow-up-monthly.csv"): "kpis.read",
    ("GET", "/console/reports/follow-up-monthly.xlsx"): "kpis.read",
    ("GET", "/console/webhooks"): "subscription.manage",
    ("GET", "/console/webhooks/{subscription_id}"): "subscription.manage",
    ("POST", "/console/webhooks/{subscription_id}/enable"): "subscription.manage",
    ("POST", "/console/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver"):
        "subscription.manage",
    # issue 18 §1: the claims and complaints pages (each action checks its event's own entry)
    ("GET", "/console/claims"): "console.read",
    ("GET", "/console/claims/{claim_id}"): "console.read",
    ("POST", "/console/claims/{claim_id}/events/{action}"): "claim.event.*",
    ("POST", "/console/claims/{claim_id}/documents"): "claim.document.upload",
    ("GET", "/console/claims/{claim_id}/documents/{sha256}"): "claim.document.read",
    ("GET", "/console/complaints"): "console.read",
    ("GET", "/console/complaints/{complaint_id}"): "console.read",
    ("POST", "/console/complaints/{complaint_id}/events/{action}"): "complaint.event.*",
    # a refused action's page sits at its form's address: reloading it goes back to the case
    ("GET", "/console/claims/{claim_id}/events/{action}"): "console.read",
    ("GET", "/console/claims/{claim_id}/documents"): "console.read",
    ("GET", "/console/complaints/{complaint_id}/events/{action}"): "console.read",
}


def roles_for(action: str) -> frozenset[Role]:
    """The roles that may do `action`; a family (`order.event.*`) is any of its members.

    Raises KeyError for an action the table does not name: a typo must fail at import time
    (every `require(...)` calls this when its router is built), never admit or refuse quietly.
    """
    if action.endswith(".*"):
        prefix = action[:-1]
        members = [roles for name, roles in PERMISSIONS.items() if name.startswith(prefix)]
        if not members:
            raise KeyError(action)
        return frozenset().union(*members)
    return PERMISSIONS[action]


def allowed(role: str, action: str) -> bool:
    return role in roles_for(action)


def route_roles(method: str, path: str) -> frozenset[Role] | None:
    """The roles a route admits; None for a public route. KeyError if the route is unknown."""
    action = ROUTES[(method, path)]
    return None if action == PUBLIC else roles_for(action)


def describe(roles: frozenset[Role] | None) -> str:
    """How the README writes a set of roles."""
    if roles is None:
        return "none (public)"
    if roles == ALL:
        return "all"
    return ", ".join(r.value for r in Role if r in roles)


def markdown() -> str:
    """The README's generated role tables: every API route with its action and roles, then the
    action × role matrix (console actions included)."""
    lines = ["| endpoint | action | roles |", "|---|---|---|"]
    for (method, path), action in ROUTES.items():
        if not path.startswith("/console"):
            each = " (each event type: its own action, below)" if action.endswith(".*") else ""
            lines.append(f"| `{method} {path}` | `{action}` | "
                         f"{describe(route_roles(method, path))}{each} |")
    roles = list(Role)
    lines += ["", "| action | " + " | ".join(r.value for r in roles) + " |",
              "|---|" + "---|" * len(roles)]
    for action, allowed_roles in PERMISSIONS.items():
        cells = ["✓" if r in allowed_roles else "" for r in roles]
        lines.append(f"| `{action}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] != ["--markdown"]:
        sys.exit("usage: python -m api.permissions --markdown")
    sys.stdout.write(markdown())
