"""Runtime settings: every part of Waybill is configured here, overridable by WAYBILL_* env vars."""

from __future__ import annotations

from datetime import time
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent
DEFAULT_POLICY_FILE = REPO_ROOT / "policies" / "default.yaml"
# Span exporters OTEL_TRACES_EXPORTER may name (shared/tracing.py builds them).
TRACE_EXPORTERS = frozenset({"otlp", "console"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WAYBILL_", extra="ignore")

    data_dir: Path = Path(".data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is SQLite at DATA_DIR/waybill.db"
    )
    temporal_address: str | None = Field(
        default=None, description="host:port of an existing Temporal; unset = local dev server"
    )
    temporal_namespace: str = "default"
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    temporal_ui_base_url: str | None = Field(
        default=None, description="Temporal Web UI the console links to; unset = the local dev "
                                  "server's UI at 127.0.0.1:TEMPORAL_UI_PORT")
    task_queue: str = "waybill-orders"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    sla_policies: Path = DEFAULT_POLICY_FILE
    log_level: str = "INFO"
    update_timeout_seconds: float = 30.0
    # A new order's workflow continues as new once a run's history passes this many bytes
    # (or Temporal suggests it), so a long tracking feed never makes one run over 2 MB
    # (workflows/case.py). Read when the workflow starts: it is part of the order's input.
    order_history_limit_bytes: int = Field(default=1_000_000, ge=100_000, le=1_500_000)
    # The edge (api/edge/): a request's Temporal work, all calls together, gets one deadline;
    # past it the caller gets 503 temporal_unavailable and retries with the same event_id.
    temporal_deadline_seconds: float = Field(default=15.0, gt=0)
    # The API's connection pool: a request that cannot get a connection within the timeout is
    # a fast 503 database_unavailable, never a 30 s stall.
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout_seconds: float = Field(default=2.0, gt=0)
    retry_after_seconds: int = Field(default=5, ge=1, description="Retry-After on every 503")
    # Failed authentications (no key, unknown/revoked/expired key, console sign-in) allowed per
    # client address in a sliding minute; past it, 429 `too_many_auth_failures` before the key
    # lookup (api/edge/auth_failures.py).
    auth_failures_per_minute: int = Field(default=20, ge=1)
    # Limits (issue 14 §6). Every non-multipart body (JSON, forms) is refused past this size
    # with 413 body_too_large before it is parsed or the caller authenticated (api/edge/
    # body_limit.py); uploads keep receipt_max_bytes.
    max_json_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # The encoded input of a workflow start or update is refused with 413 payload_too_large
    # past this size, well under Temporal's 2 MiB blob limit, so it never fails in the workflow.
    max_workflow_payload_bytes: int = Field(default=512 * 1024, gt=0)
    # An event may be dated this much before its order was received (clocks disagree a little);
    # earlier is 422 occurred_before_order.
    event_clock_skew_seconds: float = Field(default=300.0, ge=0)
    demo: bool = Field(default=False, description="`waybill dev` also runs the demo traffic "
                       "generator (demo/traffic.py): `make run DEMO=1`")

    # Prometheus metrics (observability/, README "Metrics"). Each process serves Waybill's own
    # metrics on its port and the Temporal SDK's on another (the SDK's Rust core runs its own
    # HTTP server). Unset = not served: two workers on one machine would fight over a default.
    # Bound to metrics_host, never through the API's port, so /metrics needs no key and is
    # reachable only where the operator exposes it.
    metrics_host: str = "127.0.0.1"
    api_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    api_temporal_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    worker_temporal_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # The gauges read from the database (orders by stage, outbox, escalations) are computed at
    # scrape time and reused for this long, so frequent scrapes cost one query set per period.
    metrics_cache_seconds: float = Field(default=10.0, ge=0)

    # Notifications. Email goes out only when smtp_host is set; otherwise email rows are
    # recorded in the outbox and marked `skipped` at delivery.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_tls: Literal["none", "starttls", "ssl"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Waybill <noreply@waybill.invalid>"
    smtp_ca_file: Path | None = Field(
        default=None, description="PEM certificates to trust for SMTP TLS; default: system CAs")
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Webhook targets (activities/notify/webhook_targets.py), against SSRF: a URL must be https
    # and may not reach loopback or private addresses, checked when it is set and again after DNS at
    # each delivery. `waybill dev` and the test stacks turn both off for their local receivers;
    # an on-premise receiver needs allow_private. Link-local (cloud metadata), multicast,
    # unspecified and reserved addresses are refused whatever these say.
    webhooks_require_https: bool = True
    webhooks_allow_private_targets: bool = False
    webhook_max_failures: int = Field(
        default=5, ge=1, description="consecutive failed deliveries before a subscription is "
                                     "disabled")

    # Issue 19 §3: customer notices by SMS (activities/notify/sms_channel.py, an Aliyun
    # Dysmsapi adapter) and the rules of customer notices (db/notifications/customer_rules.py).
    # SMS goes out only when sms_access_key_id is set; otherwise SMS rows are recorded and
    # marked `skipped` ("sms not configured"), as e-mail without smtp_host.
    sms_base_url: str = "https://dysmsapi.aliyuncs.com"
    sms_access_key_id: str | None = None
    sms_access_key_secret: SecretStr | None = None
    sms_sign_name: str = "Waybill"
    sms_region_id: str = "cn-hangzhou"
    # The provider's approved template per notice and language, "order.shipped:zh-CN" (or just
    # "order.shipped" for every language) -> "SMS_123456"; env: a JSON object.
    sms_template_codes: dict[str, str] = Field(default_factory=dict)
    sms_timeout_seconds: float = Field(default=10.0, gt=0)
    # Quiet hours in the customer's zone (the order's calendar zone, else the default below):
    # an SMS falls due when they end; e-mail goes at once. "" = no quiet hours.
    notice_quiet_hours: str = Field(default="21:00-08:00", pattern=r"^(\d{2}:\d{2}-\d{2}:\d{2})?$")
    notice_default_timezone: str = "Asia/Shanghai"
    # Paid messages (SMS) per order and local day; the rest are recorded `skipped`.
    notice_sms_daily_cap: int = Field(default=3, ge=0)

    # Follow-up survey links (shared/survey_links.py). Unset secret: one is generated once into
    # DATA_DIR/survey_secret, so links keep working across restarts of `make run`.
    survey_secret: SecretStr | None = Field(
        default=None, description="HMAC key of survey links; unset = DATA_DIR/survey_secret")
    public_base_url: str | None = Field(
        default=None, description="scheme://host[:port] customers reach the API at; "
                                  "default http://API_HOST:API_PORT")

    # Issue 19 §2: the customer tracking page's lookup (`/t`, api/tracking/lookup.py). Each
    # client address and each tracking number gets this many attempts in a sliding minute, so
    # the four phone digits cannot be guessed quickly; in memory, per API process.
    tracking_lookups_per_minute: int = Field(
        default=10, ge=1, le=1000, description="lookups per minute per client address and per "
                                               "tracking number on the tracking page")

    # Carrier feeds (issue 19 §1, api/feeds/, README "Carrier feeds"). Kuaidi100's subscription
    # push: on `shipped` an outbox row registers the tracking number at kuaidi100_base_url/poll
    # with kuaidi100_key; the push comes back to PUBLIC_URL/v1/carrier-feeds/kuaidi100 signed
    # with kuaidi100_salt (upper(MD5(param + salt))). Without a key no subscription is made;
    # without a salt every push is refused (a push nobody can verify is not taken).
    kuaidi100_base_url: str = Field(default="https://poll.kuaidi100.com",
                                    description="the aggregator's base URL (its /poll)")
    kuaidi100_key: SecretStr | None = Field(default=None, description="Kuaidi100 授权key")
    kuaidi100_customer: str | None = Field(default=None, description="Kuaidi100 customer id")
    kuaidi100_salt: SecretStr | None = Field(
        default=None, description="signs Kuaidi100's pushes to us (sent with each subscription)")
    kuaidi100_timeout_seconds: float = Field(default=10.0, gt=0)
    # Carrier names as orders spell them -> Kuaidi100 company codes, beyond the built-in ones
    # (shared/carriers.py), e.g. {"Acme Freight": "acmefreight"}.
    carrier_codes: dict[str, str] = Field(default_factory=dict, max_length=500)

    # Temporal payload encryption (issue 17 §4, shared/codec.py): every payload the client and
    # the worker write is AES-256-GCM encrypted. Keys as `id:base64-of-32-bytes`, comma-separated;
    # every listed key decrypts, the one named by temporal_codec_key_id (unset = the first)
    # encrypts: rotate by adding a key, then switching the id. Unset keys: a development key is
    # made once in DATA_DIR/temporal_codec_key (production sets them: README "Payload encryption").
    temporal_codec_keys: SecretStr | None = Field(
        default=None, description="id:base64-key[,id:base64-key...]; unset = "
                                  "DATA_DIR/temporal_codec_key")
    temporal_codec_key_id: str | None = Field(
        default=None, description="id of the key that encrypts; unset = the first listed")
    # The codec endpoint (/codec/encode, /codec/decode) answers cross-origin requests from this
    # one origin only (the Temporal Web UI's, scheme://host[:port]); unset = the origin of
    # temporal_ui_url. Payload count and size per request are bounded.
    codec_cors_origin: str | None = None
    codec_max_payloads: int = Field(default=500, ge=1)
    codec_max_payload_bytes: int = Field(default=2 * 1024 * 1024, gt=0)

    # Document archive (receipts, evidence): content-addressed, write-once.
    archive_backend: Literal["local", "s3"] = "local"
    archive_dir: Path | None = Field(default=None, description="default: DATA_DIR/archive")
    s3_endpoint_url: str | None = Field(
        default=None, description="an S3-compatible endpoint; unset = AWS S3")
    s3_bucket: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    receipt_max_bytes: int = Field(default=20 * 1024 * 1024, gt=0)

    # Bulk order import (issue 19 §4, api/imports/). A file is at most import_max_bytes (and
    # never more than receipt_max_bytes, the multipart limit of the edge) and import_max_rows
    # order lines; its orders are created import_batch_size per activity, import_concurrency
    # at a time, by the worker.
    import_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    import_max_rows: int = Field(default=20_000, gt=0, le=100_000)
    import_batch_size: int = Field(default=100, gt=0, le=1000)
    import_concurrency: int = Field(default=8, gt=0, le=64)

    # /docs, /redoc and /openapi.json (api/docs_ui.py): true = only with a valid API key
    # (Authorization: Bearer) or a console session.
    docs_require_key: bool = False

    # Audit chain checkpoints (issue 17 §3; db/audit, activities/audit): the heads of the chains
    # that moved are signed (HMAC-SHA256) with audit_checkpoint_key every 15 minutes
    # (schedules.py), and each checkpoint stores the id of its key. Unset key: one is
    # generated once into DATA_DIR/audit_checkpoint_key (key id "data-dir"), so `make run` needs
    # no setting. Rotating: set a new key and id, and move the old one into
    # audit_checkpoint_old_keys (JSON {"id": "key"}) so older checkpoints still verify.
    audit_checkpoint_key: SecretStr | None = Field(
        default=None, description="HMAC key of audit checkpoints; unset = "
                                  "DATA_DIR/audit_checkpoint_key")
    audit_checkpoint_key_id: str = Field(default="k1", min_length=1, max_length=40,
                                         pattern=r"^[A-Za-z0-9._-]+$")
    audit_checkpoint_old_keys: dict[str, SecretStr] = Field(default_factory=dict)
    audit_checkpoint_batch: int = Field(default=5000, ge=1, description="chains per checkpoint")

    # Issue 17 §6, retention of closed orders' personal data (db/personal/, README "Retention
    # of personal data"): an order's customer, destination, signer and free texts are redacted
    # this many days after the order and all its claims and complaints closed (a complaint with
    # no order: after it closed), by the daily `waybill-personal-data-retention` schedule, at
    # most ..._batch subjects per statement batch.
    personal_data_retention_days: int = Field(
        default=365, ge=1, le=36500, description="days after closing before personal data of "
                                                 "closed orders is redacted")
    personal_data_retention_batch: int = Field(default=100, ge=1, le=10000)

    # Issue 17 §5, audit exports (api/audit/exports.py, api/audit/dossier.py): the longest time
    # range one streamed export may cover, and where the PDF dossier finds a font with Chinese
    # glyphs (the first file that exists; .ttc collections are read at their Simplified Chinese
    # face). Debian/Ubuntu's fonts-noto-cjk first, then Fedora's and Arch's paths, then
    # WenQuanYi's; no file found answers 503 `pdf_font_missing`.
    audit_export_max_days: int = Field(default=31, ge=1, le=366,
                                       description="longest range of GET /v1/audit/export")
    audit_pdf_fonts: list[str] = Field(default_factory=lambda: [
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    ], description="CJK font files for the PDF dossier, the first present is used")

    # Operations console (/console): its session cookies are signed with console_secret; unset =
    # derived from the survey secret (rotating that one signs everyone out of the console).
    console_secret: SecretStr | None = None
    console_session_hours: float = Field(default=8.0, gt=0)
    console_timezone: str = Field(
        default="Asia/Shanghai", description="IANA zone console times are shown in, until a "
                                             "user picks another")

    # KPIs and reports (kpis/): months and dates given as days are read in this zone.
    business_timezone: str = Field(
        default="Asia/Shanghai", description="IANA zone whose days and months KPI periods and "
                                             "the monthly follow-up report use")

    # Traces (shared/tracing.py), off by default. Read from the standard OpenTelemetry variables,
    # not WAYBILL_*, so a collector's usual setup works as it is: OTEL_TRACES_EXPORTER names the
    # exporters (`otlp`, `console`, comma-separated; `none` = off); an OTLP endpoint set without
    # it means `otlp`; OTEL_SDK_DISABLED=true turns traces off whatever else is set. The rest
    # (endpoint, headers, OTEL_SERVICE_NAME, sampler, batching) the OpenTelemetry SDK reads itself.
    otel_traces_exporter: str | None = Field(default=None,
                                             validation_alias="OTEL_TRACES_EXPORTER")
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                                                    "OTEL_EXPORTER_OTLP_ENDPOINT"))
    otel_sdk_disabled: bool = Field(default=False, validation_alias="OTEL_SDK_DISABLED")

    # Issue 19 §3: a bad quiet-hours window or zone must stop start-up, not every projection.
    @field_validator("notice_quiet_hours")
    @classmethod
    def _quiet_hours_are_times(cls, value: str) -> str:
        for part in value.split("-") if value else ():
            time.fromisoformat(part)  # ValueError: not HH:MM
        return value

    @field_validator("notice_default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("otel_traces_exporter")
    @classmethod
    def _known_trace_exporters(cls, value: str | None) -> str | None:
        # A typo must stop start-up, not leave an operator waiting for traces that never come.
        unknown = {n.strip() for n in (value or "").split(",")} - TRACE_EXPORTERS - {"", "none"}
        if unknown:
            raise ValueError(f"unknown trace exporter(s) {sorted(unknown)}; "
                             f"known: {sorted(TRACE_EXPORTERS)} or none")
        return value

    @property
    def trace_exporters(self) -> frozenset[str]:
        """The span exporters to run; empty = traces off (no provider, no interceptor)."""
        if self.otel_sdk_disabled:
            return frozenset()
        if self.otel_traces_exporter is None:
            return frozenset({"otlp"}) if self.otel_exporter_otlp_endpoint else frozenset()
        return frozenset(n.strip() for n in self.otel_traces_exporter.split(",")) & \
            TRACE_EXPORTERS

    # Worker deployment versioning (worker.py, README "Rolling a new worker"): with both set the
    # worker polls as version DEPLOYMENT_NAME.BUILD_ID and gets tasks only once that version is
    # made current in Temporal; unset, it is unversioned (dev, tests). No "." in the name: the
    # version's canonical form is `<deployment_name>.<build_id>`.
    deployment_name: str | None = Field(default=None, min_length=1, pattern=r"^[^.]+$")
    build_id: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _versioned_in_full(self) -> Settings:
        if (self.deployment_name is None) != (self.build_id is None):
            raise ValueError("WAYBILL_DEPLOYMENT_NAME and WAYBILL_BUILD_ID are set together "
                             "or not at all")
        return self

    @cached_property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'waybill.db').resolve()}"

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    @property
    def public_url(self) -> str:
        """Base of absolute links sent to customers (no trailing slash)."""
        return (self.public_base_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    @property
    def temporal_ui_url(self) -> str:
        if self.temporal_ui_base_url:
            return self.temporal_ui_base_url.rstrip("/")
        return f"http://127.0.0.1:{self.temporal_ui_port}"
