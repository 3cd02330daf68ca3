"""An in-process API client wired to a real Temporal dev server, worker and database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.trace import TracerProvider
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.app import create_app
from api.deps import Role
from api.permissions import PERMISSIONS
from archive import archive_from_settings
from config import Settings
from db.documents import queries as documents
from db.engine import make_engine, session_factory, transaction
from db.keys.queries import create_key
from tests.support.worker_harness import running_worker


@dataclass
class Api:
    http: httpx.AsyncClient
    keys: dict[str, str]
    temporal: Client
    settings: Settings
    roles: dict[str, str] = field(default_factory=dict)
    app: Any = None  # the FastAPI app, for tests that reach its state (engine, routes)

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    async def create(self, body: dict[str, Any], role: str = "operator") -> httpx.Response:
        return await self.http.post("/v1/orders", json=body, headers=self.auth(role))

    async def event(self, order_id: str, type_: str, data: dict[str, Any] | None = None,
                    event_id: str | None = None, occurred_at: datetime | None = None,
                    role: str | None = None) -> httpx.Response:
        """Post an order event; by default as the role that sends it in real life: an
        integration for the path's events, an operator for staff decisions (cancelled, note,
        promise_changed, shortage_decision, follow_up_call: api/permissions.py)."""
        if role is None:
            senders = PERMISSIONS.get(f"order.event.{type_}")  # None: a type that is refused
            role = "integration" if senders is None or Role.INTEGRATION in senders \
                else "operator"
        body = {"event_id": event_id or f"ev-{uuid.uuid4().hex[:10]}", "type": type_,
                "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
                "data": data or {}}
        return await self.http.post(f"/v1/orders/{order_id}/events", json=body,
                                    headers=self.auth(role))

    async def get(self, path: str, role: str = "operator", **params: Any) -> httpx.Response:
        return await self.http.get(path, headers=self.auth(role), params=params)

    def archived_receipt(self, text: str = "receipt", order_id: str = "harness") -> dict[str, Any]:
        """A receipt_returned event's data naming a document really in the archive (its row
        linked to `order_id`'s audit chain)."""
        data = b"%PDF-1.4\n% " + text.encode() + b"\n%%EOF\n"
        sha256 = archive_from_settings(self.settings).put(data)
        engine = make_engine(self.settings.db_url)
        with transaction(session_factory(engine)) as session:
            documents.record(session, sha256, "application/pdf", len(data), "test", order_id)
        engine.dispose()
        return {"document": {"ref": f"archive:sha256:{sha256}", "sha256": sha256}}


def order_body(order_id: str | None = None, tier: str = "standard", ship_in_h: float = 48,
               deliver_in_h: float = 96, **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "order_id": order_id or f"SO-{uuid.uuid4().hex[:8]}",
        "customer": {"id": "C-88", "name": "Sanghong Apparel", "tier": tier,
                     "phone": "+86 21 5555 0100", "email": "ops@example.com"},
        "lines": [{"sku": "SKU-1", "qty": 10}, {"sku": "SKU-2", "qty": 4}],
        "destination": {"address": "88 Century Ave", "city": "Shanghai", "contact": "Li Lei"},
        "promised_ship_by": (now + timedelta(hours=ship_in_h)).isoformat(),
        "promised_delivery_by": (now + timedelta(hours=deliver_in_h)).isoformat(),
        **extra,
    }


@asynccontextmanager
async def api_stack(temporal: Client, db_url: str, task_queue: str, data_dir: Path,
                    policy_file: Path | None = None, worker: bool = True,
                    tracer_provider: TracerProvider | None = None,
                    **settings_extra: Any) -> AsyncIterator[Api]:
    extra: dict[str, Any] = {"sla_policies": policy_file} if policy_file else {}
    extra.update(settings_extra)
    settings = Settings(database_url=db_url, task_queue=task_queue, data_dir=data_dir, **extra)
    engine = make_engine(db_url)
    keys = {}
    with transaction(session_factory(engine)) as session:
        for role in Role:
            keys[role.value] = create_key(session, f"test-{role.value}", role.value)[1]
    engine.dispose()
    app = create_app(settings, temporal=temporal, tracer_provider=tracer_provider)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://waybill",
                                     timeout=60) as http:
            api = Api(http=http, keys=keys, temporal=temporal, settings=settings, app=app)
            if worker:
                async with running_worker(temporal, db_url, task_queue, settings):
                    yield api
            else:
                yield api


def policy_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policies.yaml"
    path.write_text(text)
    return path


def error_code(resp: httpx.Response) -> str:
    return resp.json()["error"]["code"]


async def created(api: Api, **kw: Any) -> str:
    body = order_body(**kw)
    resp = await api.create(body)
    assert resp.status_code == 201, resp.text
    return body["order_id"]


StackFactory = Callable[..., AbstractAsyncContextManager[Api]]


def stack_factory(temporal: Client, task_queue: str, data_dir: Path) -> StackFactory:
    def make_stack(db_url: str, *, policy: str | Path | None = None, worker: bool = True,
                   seed: Callable[[Session], object] | None = None,
                   task_queue: str = task_queue, data_dir: Path = data_dir,
                   **settings: Any) -> AbstractAsyncContextManager[Api]:
        """The app, its keys (one per role) and a worker on `task_queue`, over `db_url`.

        `policy`: a policy file's YAML (or its path); `seed(session)` writes rows first;
        `settings`: any other Settings field.
        """
        if isinstance(policy, str):
            path = data_dir / "policies.yaml"
            path.write_text(policy)
            policy = path
        if seed is not None:
            engine = make_engine(db_url)
            with transaction(session_factory(engine)) as session:
                seed(session)
            engine.dispose()
        return api_stack(temporal, db_url, task_queue, data_dir, policy, worker, **settings)
    return make_stack
