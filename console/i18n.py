"""The console's words, language and time zone: one catalogue per locale (api.i18n), the
viewer's choice kept per user (db.console) and in cookies, and times written in the viewer's
zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from fastapi import Request

from api.i18n import (
    DEFAULT_LOCALE,
    LOCALES,
    Translate,
    from_accept_language,
    load_catalogue,
    make_translator,
    match_locale,
)
from config import REPO_ROOT, Settings
from db.personal.fields import REDACTED
from workflows.ids import SYSTEM_ACTOR, SYSTEM_SOURCE
from workflows.order.event_data import EVENTS

CONSOLE_TEMPLATE_DIR = REPO_ROOT / "templates" / "console"
MESSAGE_DIR = CONSOLE_TEMPLATE_DIR / "messages"
LANG_COOKIE = "wb_lang"
TZ_COOKIE = "wb_tz"
# Offered first in the zone picker: where Waybill's staff and carriers work.
# Waybill's own entries: its workflows' actor, and "system" for what the read model wrote.
SYSTEM_ACTORS = frozenset({SYSTEM_ACTOR, SYSTEM_SOURCE})
# How the workflows word an escalation they clear themselves (workflows/order/breaches.py,
# workflows/claim/workflow.py): "condition cleared by <event type or step>". Committed histories
# keep that English text, so the console words it instead of changing it.
CLEARED_BY = "condition cleared by "
COMMON_ZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Singapore", "Asia/Tokyo", "UTC",
                "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles")


@lru_cache(maxsize=8)
def catalogue(locale: str) -> dict[str, str]:
    """The console's words in `locale`: its catalogue file, and what each order event type
    declares (workflows/order/event_data.py EVENTS): its name, `event.<type>`, and the labels
    of its console form's fields, `event.<type>.<field>`."""
    words = dict(load_catalogue(MESSAGE_DIR, locale))
    for event_type, spec in EVENTS.items():
        words[f"event.{event_type.value}"] = spec.label[locale]
        for name, form_field in spec.form.items():
            words[f"event.{event_type.value}.{name}"] = form_field.label[locale]
    return words


@lru_cache(maxsize=8)  # Viewer.t asks for it per sentence: build it once per language
def translator(locale: str) -> Translate:
    """`t(key, **fields)` in `locale`; a field retention redacted (db/personal) reads as the
    language's word for it, not as the stored marker."""
    words = catalogue(locale)
    t, redacted = make_translator(words), words["story.redacted"]

    def shown(key: str, **fields: Any) -> str:
        return t(key, **{k: redacted if v == REDACTED else v for k, v in fields.items()})

    return shown


def valid_zone(name: str | None) -> str | None:
    if not name or len(name) > 64:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def all_zones() -> list[str]:
    return list(COMMON_ZONES) + sorted(available_timezones() - set(COMMON_ZONES))


@dataclass(frozen=True)
class Viewer:
    """How this viewer reads the console: language and time zone."""

    locale: str
    zone: str

    @property
    def t(self) -> Translate:
        return translator(self.locale)

    def code(self, group: str, value: str | None) -> str:
        """The words for a code (a stage, an event type...); the code itself if it is new."""
        if value is None:
            return "-"
        return catalogue(self.locale).get(f"{group}.{value}", value)

    def team(self, name: str | None) -> str:
        """A team with an in-app inbox in words: one on an escalation ladder (or a role's team:
        `esc.recipient.*`), else a complaint's department (`complaints.department.*`); a
        person, an address or a team newer than the catalogue as it is."""
        if name is None:
            return "-"
        words = catalogue(self.locale)
        return (words.get(f"esc.recipient.{name}")
                or words.get(f"complaints.department.{name}", name))

    def teams(self, names: object) -> str:
        """A list of recipients in words, or "-"."""
        if isinstance(names, str):
            return self.team(names)
        if not isinstance(names, list | tuple) or not names:
            return "-"
        return self.t("list_separator").join(self.team(str(n)) for n in names)

    def resolution(self, text: str | None) -> str:
        """An escalation's resolution text: what a person wrote as is; Waybill's own
        "condition cleared by <what>" in the viewer's words."""
        if not text:
            return "-"
        if not text.startswith(CLEARED_BY):
            return text
        what = text.removeprefix(CLEARED_BY)
        words = catalogue(self.locale)
        named = next((words[f"{group}.{what}"] for group in
                      ("event", "order.claim_step", "order.complaint_step")
                      if f"{group}.{what}" in words), what)
        return self.t("resolution.cleared_by", what=named)

    def actor(self, name: str | None) -> str:
        """Who did something: a person as named, Waybill itself in words."""
        if name in SYSTEM_ACTORS:
            return self.t("story.actor.system")
        return name or "-"

    def policy(self, name: str | None, title: object = None) -> str:
        """An SLA policy's display name: the title its version carries (one text, or one per
        locale), else the catalogue's `policy.<name>`, else its name."""
        if isinstance(title, dict):
            title = (title.get(self.locale) or title.get(DEFAULT_LOCALE)
                     or next((v for v in title.values() if isinstance(v, str)), None))
        if isinstance(title, str) and title.strip():
            return title.strip()
        return self.code("policy", name)

    def time(self, value: datetime | str | None) -> str:
        return self._local(value, "%Y-%m-%d %H:%M")

    def instant(self, value: datetime | str | None, clock_only: bool = False) -> str:
        """A moment to the second in the viewer's zone (an audit trail's events often share a
        minute); `clock_only` gives just the time of day, as a sentence says it."""
        return self._local(value, "%H:%M:%S" if clock_only else "%Y-%m-%d %H:%M:%S")

    def _local(self, value: datetime | str | None, fmt: str) -> str:
        """`value` (a datetime or ISO text; naive is UTC) in the viewer's zone, or "-"."""
        if isinstance(value, str):
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if not isinstance(value, datetime):
            return "-"
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(ZoneInfo(self.zone)).strftime(fmt)

    def zone_label(self) -> str:
        offset = datetime.now(ZoneInfo(self.zone)).strftime("%z")
        return f"{self.zone} (UTC{offset[:3]}:{offset[3:]})"

    def duration(self, seconds: float) -> str:
        """Days and hours, hours and minutes, minutes, or under a minute its seconds: a
        40-second median reads "40s", not "0m"."""
        whole = int(abs(seconds))
        if whole < 60:
            return self.t("duration_s", s=whole)
        minutes = whole // 60
        days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
        if days:
            return self.t("duration_dh", d=days, h=hours)
        if hours:
            return self.t("duration_hm", h=hours, m=mins)
        return self.t("duration_m", m=mins)

    def time_left(self, due: datetime | None, now: datetime | None = None) -> str:
        if due is None:
            return self.t("no_deadline")
        if due.tzinfo is None:
            due = due.replace(tzinfo=UTC)
        seconds = (due - (now or datetime.now(UTC))).total_seconds()
        key = "time_left" if seconds >= 0 else "overdue_by"
        return self.t(key, duration=self.duration(seconds))


def viewer(request: Request, settings: Settings, chosen_locale: str | None = None,
           chosen_zone: str | None = None) -> Viewer:
    """The signed-in user's stored choice (`chosen_*`, so it follows them to any browser), else
    this browser's cookie, else its Accept-Language; zh-CN and the settings' zone when none
    says. Stored values are checked again: a locale or zone may have gone since it was saved."""
    locale = (match_locale(chosen_locale) or match_locale(request.cookies.get(LANG_COOKIE))
              or from_accept_language(request.headers.get("accept-language")) or DEFAULT_LOCALE)
    zone = (valid_zone(chosen_zone) or valid_zone(request.cookies.get(TZ_COOKIE))
            or valid_zone(settings.console_timezone) or "UTC")
    return Viewer(locale=locale if locale in LOCALES else DEFAULT_LOCALE, zone=zone)
