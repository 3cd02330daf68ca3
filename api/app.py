"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from opentelemetry.trace import TracerProvider
from temporalio.client import Client

from api import docs_ui, errors, health, openapi
from api.audit import router as audit  # issue 17 §3
from api.claims import documents as claim_documents
from api.claims import router as claims
from api.codec import router as codec_endpoint
from api.codec.cors import CodecCorsMiddleware
from api.complaints import router as complaints
from api.edge.access_log import AccessLogMiddleware
from api.edge.auth_failures import AuthFailures
from api.edge.body_limit import BodyLimitMiddleware
from api.edge.metrics import HttpMetricsMiddleware
from api.edge.request_id import RequestIdFilter, RequestIdMiddleware
from api.edge.text import refuse_nul_in_url
from api.edge.traces import TraceMiddleware
from api.edge.units import Db
from api.escalations import router as escalations
from api.feeds import router as carrier_feeds  # issue 19 §1
from api.imports import router as imports  # issue 19 §4
from api.keys import router as keys
from api.kpis import router as kpis
from api.notices import opt_out as notice_opt_out  # issue 19 §3
from api.notices import router as notice_preferences
from api.notifications import inbox, subscriptions
from api.orders import personal_data  # issue 17 §6
from api.orders import router as orders
from api.policies import router as sla_policies
from api.receipts import router as receipts
from api.survey import router as survey_page
from api.tracking import router as tracking_page  # issue 19 §2
from archive import archive_from_settings
from config import Settings
from console import router as console
from console.codec import routes as console_codec
from db.engine import make_engine, session_factory, transaction
from db.policies.queries import seed_from_file
from observability import database as db_metrics
from observability import serving as metrics
from policies import load_policy_file
from shared import tracing
from shared.temporal import connect

log = logging.getLogger("waybill.api")


def create_app(settings: Settings | None = None, temporal: Client | None = None,
               tracer_provider: TracerProvider | None = None) -> FastAPI:
    """Build the app; `temporal` lets a caller share an existing client (tests), and
    `tracer_provider` bring its own traces (tests: an in-memory exporter) instead of the
    settings' (shared/tracing.py)."""
    settings = settings or Settings()
    policy_bodies = load_policy_file(settings.sla_policies)  # a bad file stops start-up here

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.db_url, pool_size=settings.db_pool_size,
                             max_overflow=settings.db_max_overflow,
                             pool_timeout=settings.db_pool_timeout_seconds)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        app.state.db = Db(app.state.sessions)
        app.state.archive = archive_from_settings(settings)
        with transaction(app.state.sessions) as session:
            seeded = seed_from_file(session, policy_bodies, str(settings.sla_policies))
        if seeded:
            log.info("SLA policies seeded from file", extra={"policies": seeded})
        # Traces, off by default: request spans (api/edge/traces.py) and the client's.
        own = None if tracer_provider else tracing.tracer_provider(settings, "waybill-api")
        provider = tracer_provider or own
        app.state.tracer = provider.get_tracer(tracing.TRACER_NAME) if provider else None
        db_metrics.count_pool_timeouts(engine)
        endpoint = metrics.serve(settings.metrics_host, settings.api_metrics_port,
                                 [db_metrics.PoolCollector(engine)], "WAYBILL_API_METRICS_PORT")
        app.state.temporal = temporal or await connect(
            settings, tracer_provider=provider, runtime=metrics.sdk_runtime(
                settings.metrics_host, settings.api_temporal_metrics_port,
                "WAYBILL_API_TEMPORAL_METRICS_PORT"))
        yield
        if endpoint:
            endpoint.stop()
        engine.dispose()
        if own is not None:
            own.shutdown()  # flushes the spans still batched

    app = FastAPI(
        title="Waybill",
        version="1.0.0",
        summary="Order lifecycle for logistics customer service: every order on time, in full.",
        description="Create orders, post their events, read their state, timeline and history. "
                    "Every call but `/healthz` and `/readyz` needs `Authorization: Bearer <key>`. "
                    'Errors use one envelope: `{"error": {"code", "message", "details"}}`.',
        lifespan=lifespan,
        # api/docs_ui.py serves /docs and /redoc from installed assets (no CDN), and
        # /openapi.json itself when the docs need a key.
        docs_url=None, redoc_url=None,
        openapi_url=None if settings.docs_require_key else docs_ui.OPENAPI_URL,
        dependencies=[Depends(refuse_nul_in_url)],
    )
    errors.install(app)
    # Per app (so per process): the failed-authentication window, before any lifespan work.
    app.state.auth_failures = AuthFailures(settings.auth_failures_per_minute)
    # The last added runs first: request id, then the request's span (named by it), then the
    # access log (so its line names the request and trace ids and sees every answer), then the
    # body limit (its 413 is logged too).
    # The codec endpoint's CORS (issue 17 §4): its preflight is answered before the body limit
    # and the key check; only the configured Temporal Web UI origin is allowed.
    app.add_middleware(CodecCorsMiddleware,
                       origin=settings.codec_cors_origin or settings.temporal_ui_url)
    app.add_middleware(BodyLimitMiddleware, max_json_bytes=settings.max_json_body_bytes,
                       max_upload_bytes=settings.receipt_max_bytes)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(TraceMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(HttpMetricsMiddleware)  # outermost: it counts every answer, 500s too
    _log_request_ids()
    app.include_router(health.router)
    app.include_router(imports.router)  # issue 19 §4; before /v1/orders/{order_id}
    app.include_router(orders.router)
    app.include_router(audit.router)  # issue 17 §3
    app.include_router(audit.range_router)  # issue 17 §5: the time-range export
    app.include_router(escalations.router)
    app.include_router(complaints.router)
    app.include_router(sla_policies.router)
    app.include_router(subscriptions.router)
    app.include_router(inbox.router)
    app.include_router(claims.router)
    app.include_router(claim_documents.router)
    app.include_router(survey_page.router)
    app.include_router(tracking_page.router)  # issue 19 §2: /t/{token} and the lookup /t
    app.include_router(receipts.router)
    app.include_router(kpis.router)
    app.include_router(keys.router)
    app.include_router(codec_endpoint.router)  # issue 17 §4: /codec/decode, /codec/encode
    app.include_router(console_codec.router)  # the same for the Web UI, by console session
    app.include_router(personal_data.router)  # issue 17 §6: an erasure request
    app.include_router(carrier_feeds.router)  # issue 19 §1: carrier feeds
    # Issue 19 §3: the notices' opt-out page (/u/<token>) and staff's channel choice.
    app.include_router(notice_opt_out.router)
    app.include_router(notice_preferences.router)
    app.include_router(console.router)
    console.install(app)
    docs_ui.install(app, settings)
    openapi.install(app)
    return app


def _log_request_ids() -> None:
    """Every log line written while a request runs names its request id."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
