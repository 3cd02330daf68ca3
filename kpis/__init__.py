"""KPIs and reports computed from the application database (issue 6).

`compute_kpis(session, KpiQuery(...))` and `follow_up_monthly(session, month, tz)` return
pydantic models; `.to_json()` is the JSON the API serves and a snapshot stores.
"""

from kpis.compute import KpiQuery, compute_kpis
from kpis.follow_up_report import follow_up_monthly
from kpis.models import GROUP_KEYS, FollowUpReport, KpiReport
from kpis.periods import PeriodError, month_bounds, range_bounds

__all__ = ["GROUP_KEYS", "FollowUpReport", "KpiQuery", "KpiReport", "PeriodError",
           "compute_kpis", "follow_up_monthly", "month_bounds", "range_bounds"]
