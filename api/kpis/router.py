"""KPIs and the monthly follow-up report, as JSON, CSV or XLSX (by `Accept` or `?format=`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse, Response

from api.deps import Principal, SessionDep, SettingsDep, require
from api.documents.downloads import table_download
from api.errors import ApiError
from kpis import GROUP_KEYS, KpiQuery, PeriodError, compute_kpis, follow_up_monthly
from kpis.export import CSV_TYPE, XLSX_TYPE, Row, follow_up_table, kpi_table
from kpis.periods import range_bounds, zone

log = logging.getLogger("waybill.api.kpis")
router = APIRouter(tags=["kpis"])

Reader = Annotated[Principal, Depends(require("kpis.read"))]
FORMATS = {"json": "application/json", "csv": CSV_TYPE, "xlsx": XLSX_TYPE}
_FORMAT_DOC = ("json (default), csv or xlsx; overrides the Accept header, which may ask for "
               f"application/json, {CSV_TYPE} or {XLSX_TYPE}")
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV_TYPE: {}, XLSX_TYPE: {}}},
    400: {"description": "unsupported_format"},
    403: {"description": "forbidden: integration keys may not read KPIs"},
    406: {"description": "not_acceptable: Accept names no format served here"},
}


def negotiate(fmt: str | None, accept: str | None) -> str:
    """`?format=` if given, else the most preferred type of `Accept` served here, else JSON."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ApiError(400, "unsupported_format", f"format {fmt!r} is not served",
                           supported=list(FORMATS))
        return fmt
    if not accept:
        return "json"
    ranked = []
    for i, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, i, media.lower()))
    by_type = {v: k for k, v in FORMATS.items()}
    for _, _, media in sorted(ranked):
        if media in ("*/*", "application/*"):
            return "json"
        if media in by_type:
            return by_type[media]
    raise ApiError(406, "not_acceptable", "none of the accepted types is served",
                   supported=list(FORMATS.values()))


# A report's JSON as a table's columns and rows (kpis/export.py).
Tabulate = Callable[[dict[str, Any]], tuple[list[str], list[Row]]]


def _render(body: dict[str, Any], fmt: str, table: Tabulate, name: str, sheet: str) -> Response:
    headers = {"Vary": "Accept"}
    if fmt == "json":
        return JSONResponse(body, headers=headers)
    return table_download(*table(body), fmt, name, sheet, headers)


def _invalid(err: PeriodError) -> ApiError:
    # headers given (None) positionally, so a detail can never be taken for them
    return ApiError(422, err.code, err.message, None, **err.details)


def _business_zone(name: str) -> ZoneInfo:
    try:
        return zone(name)
    except PeriodError as err:  # a deployment error, not the caller's
        raise ApiError(500, "invalid_business_timezone", err.message) from err


def _as_of(value: str | None, tz: ZoneInfo) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(422, "invalid_date", "as_of must be an ISO 8601 date-time",
                       parameter="as_of", value=value) from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=tz)).astimezone(UTC)


def _group_by(value: str | None) -> list[str]:
    keys = [k.strip() for k in (value or "").split(",") if k.strip()]
    unknown = [k for k in keys if k not in GROUP_KEYS]
    if unknown:
        raise ApiError(422, "unknown_group_by", "group_by names keys that are not known",
                       unknown=unknown, known=list(GROUP_KEYS))
    if len(set(keys)) != len(keys):
        raise ApiError(422, "unknown_group_by", "group_by repeats a key", group_by=keys)
    return keys


@router.get(
    "/v1/kpis", responses=_RESPONSES,
    description="Every KPI over [from, to), in total and per group: OTIF, on-time and in-full "
                "rates, stage cycle times, receipt return, follow-ups, satisfaction, "
                "escalations, complaints and claims, each with its numerator and denominator "
                "or count. Dates are days of the business time zone (`to` included); "
                "date-times without an offset are read in it. At most 366 days.")
def get_kpis(
    _: Reader, session: SessionDep, settings: SettingsDep,
    from_: Annotated[str, Query(alias="from", description="YYYY-MM-DD or ISO date-time")],
    to: Annotated[str, Query(description="YYYY-MM-DD (included) or ISO date-time (excluded)")],
    group_by: Annotated[str | None, Query(
        description=f"comma-separated, of {', '.join(GROUP_KEYS)}")] = None,
    as_of: Annotated[str | None, Query(
        description="take the figures as at this instant (default now): only what fell due "
                    "before it counts")] = None,
    format: Annotated[str | None, Query(description=_FORMAT_DOC)] = None,  # noqa: A002
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    fmt = negotiate(format, accept)
    tz = _business_zone(settings.business_timezone)
    try:
        start, stop = range_bounds(from_, to, tz)
    except PeriodError as err:
        raise _invalid(err) from err
    keys = _group_by(group_by)
    began = time.perf_counter()
    report = compute_kpis(session, KpiQuery(start, stop, keys, as_of=_as_of(as_of, tz)), tz)
    log.info("kpis computed", extra={"from": start.isoformat(), "to": stop.isoformat(),
                                     "group_by": keys, "groups": len(report.groups),
                                     "ms": round((time.perf_counter() - began) * 1000)})
    last_day = (stop - timedelta(microseconds=1)).astimezone(tz).date()  # `to` is exclusive
    name = f"kpis_{start.astimezone(tz).date()}_{last_day}"
    return _render(report.to_json(), fmt, kpi_table, name, "kpis")


@router.get(
    "/v1/reports/follow-up-monthly", responses=_RESPONSES,
    description="回访月报: the follow-ups that fell due in a month of the business time zone; "
                "how many were attempted and answered (回访率, 成功回访率), outcomes, "
                "satisfaction per question and overall, and the recurring problems and "
                "suggestions; in total, per customer and per tier.")
def get_follow_up_monthly(
    _: Reader, session: SessionDep, settings: SettingsDep,
    month: Annotated[str, Query(description="YYYY-MM, e.g. 2026-11")],
    as_of: Annotated[str | None, Query(description="as at this instant; default now")] = None,
    format: Annotated[str | None, Query(description=_FORMAT_DOC)] = None,  # noqa: A002
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    fmt = negotiate(format, accept)
    tz = _business_zone(settings.business_timezone)
    try:
        report = follow_up_monthly(session, month, tz, as_of=_as_of(as_of, tz))
    except PeriodError as err:
        raise _invalid(err) from err
    return _render(report.to_json(), fmt, follow_up_table, f"follow-up-monthly_{month}",
                   "follow_up_monthly")
