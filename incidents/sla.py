"""Service targets (SLA) counted in working hours on the office calendar.

A category promises to acknowledge a report within so many working hours and to resolve it
within so many more; a report sent on Friday evening is not late on Saturday morning. This
module answers two questions on the office calendar: "when have N working hours elapsed
since this moment?" (`add_working_hours`, which gives the due times) and "how many working
hours lie between these two moments?" (`working_hours_between`, for statistics such as the
time taken to acknowledge).

The calendar (`OfficeCalendar`) is made of:

* office periods, local wall-clock times such as 07:30-11:30 and 13:30-17:00
  (``CITYPIN_OFFICE_HOURS``), the same on every working day;
* the working weekdays (``CITYPIN_WORKING_DAYS``, 0 = Monday);
* the public holidays of a country (``CITYPIN_HOLIDAY_COUNTRY``, from the `holidays`
  package; for Vietnam this includes the Tết days), together with the weekend days that the
  package says are worked in exchange for a bridging day off;
* the CalendarDay rows, which override all of the above for their date: a closure on a day
  that would be worked, or a make-up working day such as a Saturday worked to lengthen Tết.

The algorithm walks the calendar one day and one office period at a time, never hour by
hour: from the start it takes each period of each working day in turn, clipped to begin no
earlier than the start, and subtracts its length from the hours still owed. The period in
which the remainder fits holds the answer. A start outside office hours therefore counts
from the next opening, and a due time that falls exactly at a closing stays there (four
hours from Monday 07:30 is Monday 11:30, not 13:30 after lunch). Non-working days cost one
lookup each, so two thousand hours (about a year) take a few hundred iterations. A calendar
with no working day at all would make the walk endless; it stops with ImproperlyConfigured
after three years without one.

All arithmetic between instants is done in UTC: Python subtracts two datetimes that share a
tzinfo by their wall clocks, which would be wrong across a daylight-saving change in zones
that have one (Vietnam does not, but the calendar's zone is a setting).

`office_calendar()` builds the calendar from the settings and the CalendarDay rows. It is
called at every report intake, so the result is kept in the process for a minute; saving or
deleting a CalendarDay through the ORM drops it at once in this process (the signals are
connected when this module is imported), and other processes pick the change up when their
minute is over.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from time import monotonic
from types import MappingProxyType
from typing import Protocol

import holidays
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from incidents.models import CalendarDay

__all__ = [
    "OfficeCalendar", "add_working_hours", "due_times", "forget_calendar", "office_calendar", "parse_office_hours",
    "working_hours_between",
]

# How long office_calendar() reuses what it built. Calendar exceptions are entered days or
# weeks ahead, so a minute's delay in other processes is harmless, and it saves a query at
# every report intake.
CACHE_SECONDS = 60.0
# A walk that meets no working day for this long is on a calendar without any (no periods,
# no weekdays, or every day closed); three years leaves room for any real closure.
MAX_IDLE_DAYS = 3 * 366

_PERIOD = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_EXAMPLE = "'07:30-11:30,13:30-17:00'"


class HasTargets(Protocol):
    """What due_times needs of a category (a Category, or anything with these two)."""

    target_acknowledge_hours: int
    target_resolve_hours: int


@lru_cache(maxsize=256)
def _public_days(country: str, year: int) -> tuple[frozenset[date], frozenset[date]]:
    """The public holidays of `country` in `year`, and the weekend days worked in exchange
    for a bridging holiday (e.g. Saturday 22/8/2026 in Vietnam, for Monday 31/8).

    Cached per (country, year): building a `holidays` calendar computes lunar dates and is
    far slower than the lookups made for every day of a walk. The neighbouring years are
    built too because an observed or substituted day can be declared by the rules of the
    year before or after the one it falls in (a New Year's Day moved, a Saturday worked in
    December for a day off in January)."""
    if not country:
        # No country: weekdays and CalendarDay rows alone make the calendar.
        return frozenset(), frozenset()
    public = holidays.country_holidays(country, years=range(year - 1, year + 2))
    days_off = frozenset(day for day in public if day.year == year)
    # Older releases of `holidays` have no weekend_workdays; they then simply give none.
    worked = frozenset(day for day in getattr(public, "weekend_workdays", ()) if day.year == year)
    return days_off, worked


@dataclass(frozen=True)
class OfficeCalendar:
    """When the office works: `periods` (local, sorted, not overlapping) on working days,
    in the time zone `tz`.

    A day is a working day if `exceptions` (CalendarDay rows: date -> worked) says so;
    failing an exception, if it is not a public holiday of `country` and its weekday is in
    `weekdays` (0 = Monday) or the holiday rules make it a worked weekend day."""

    periods: tuple[tuple[time, time], ...]
    weekdays: frozenset[int]
    country: str
    exceptions: Mapping[date, bool]
    tz: tzinfo

    def is_working_day(self, day: date) -> bool:
        # An exception is the office's own decision and beats every general rule.
        worked = self.exceptions.get(day)
        if worked is not None:
            return worked
        days_off, worked_weekend_days = _public_days(self.country, day.year)
        if day in days_off:
            return False
        return day.weekday() in self.weekdays or day in worked_weekend_days

    def periods_on(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The office periods of `day` as (opens, closes) instants in UTC, whether or not
        the day is worked (the caller decides)."""
        for opens, closes in self.periods:
            yield _instant(day, opens, self.tz), _instant(day, closes, self.tz)


def _instant(day: date, at: time, tz: tzinfo) -> datetime:
    # A wall-clock time that a daylight-saving change skips or repeats resolves with
    # fold=0, i.e. the earlier reading; office hours near 02:00 are not a real concern.
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _config_error(setting: str, problem: str, raw: object) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{setting}: {problem} in {raw!r}.")


def parse_office_hours(raw: str) -> tuple[tuple[time, time], ...]:
    """Parse "HH:MM-HH:MM,HH:MM-HH:MM" into ((opens, closes), ...).

    Periods must each end after they start (none crosses midnight), be in order and not
    overlap; one may begin exactly where the previous ends. Anything else raises
    ImproperlyConfigured naming CITYPIN_OFFICE_HOURS, since a wrong office calendar would
    silently give every report a wrong due time."""
    setting = "CITYPIN_OFFICE_HOURS"
    expected = f"; expected comma-separated local periods like {_EXAMPLE}"
    if not isinstance(raw, str) or not raw.strip():
        raise _config_error(setting, "no office period" + expected, raw)
    periods: list[tuple[time, time]] = []
    for piece in raw.split(","):
        match = _PERIOD.match(piece.strip())
        if not match:
            raise _config_error(setting, f"malformed period {piece.strip()!r}" + expected, raw)
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        if not (h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60):
            raise _config_error(setting, f"impossible time in {piece.strip()!r}" + expected, raw)
        opens, closes = time(h1, m1), time(h2, m2)
        if closes <= opens:
            raise _config_error(setting, f"period {piece.strip()!r} does not end after it starts "
                                         "(a period cannot cross midnight)", raw)
        if periods:
            previous_opens, previous_closes = periods[-1]
            if opens < previous_opens:
                raise _config_error(setting, f"period {piece.strip()!r} is out of order (list them earliest first)",
                                    raw)
            if opens < previous_closes:
                raise _config_error(setting, f"period {piece.strip()!r} overlaps the one before it", raw)
        periods.append((opens, closes))
    return tuple(periods)


def _parse_working_days(raw: str | Iterable[int]) -> frozenset[int]:
    setting = "CITYPIN_WORKING_DAYS"
    try:
        pieces = [p.strip() for p in raw.split(",") if p.strip()] if isinstance(raw, str) else list(raw)
        days = frozenset(int(p) for p in pieces)
    except (TypeError, ValueError):
        raise _config_error(setting, "weekdays must be numbers 0 (Monday) to 6 (Sunday), comma-separated", raw) from None
    if not days <= set(range(7)):
        raise _config_error(setting, "weekdays must be numbers 0 (Monday) to 6 (Sunday)", raw)
    return days


def _build_calendar() -> OfficeCalendar:
    country = str(getattr(settings, "CITYPIN_HOLIDAY_COUNTRY", "") or "").strip().upper()
    try:
        # Fails now, with the setting named, rather than in the middle of some report intake.
        _public_days(country, timezone.now().year)
    except NotImplementedError:
        raise _config_error("CITYPIN_HOLIDAY_COUNTRY", "not a country the holidays package knows",
                            country) from None
    return OfficeCalendar(
        periods=parse_office_hours(settings.CITYPIN_OFFICE_HOURS),
        weekdays=_parse_working_days(settings.CITYPIN_WORKING_DAYS),
        country=country,
        # Read-only, so the shared cached calendar cannot be changed by one caller for all.
        exceptions=MappingProxyType(dict(CalendarDay.objects.values_list("date", "is_working_day"))),
        tz=timezone.get_default_timezone(),
    )


# (built at, by monotonic(); calendar). One tuple, so that a reader in another thread
# sees either the old pair or the new one, never half of each.
_cached: tuple[float, OfficeCalendar] | None = None


def office_calendar() -> OfficeCalendar:
    """The office calendar of the settings and the CalendarDay rows, at most a minute old."""
    global _cached
    now = monotonic()
    cached = _cached
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    calendar = _build_calendar()
    _cached = (now, calendar)
    return calendar


def forget_calendar() -> None:
    """Drop the cached calendar; the next office_calendar() reads the settings and rows again."""
    global _cached
    _cached = None


def _calendar_day_changed(sender: type[CalendarDay], **kwargs: object) -> None:
    # At once, so that the rest of this request (the admin's redirect, a test) sees the
    # change; and again at commit, because another thread may have rebuilt the calendar in
    # between from what was committed before.
    forget_calendar()
    transaction.on_commit(forget_calendar)


post_save.connect(_calendar_day_changed, sender=CalendarDay, dispatch_uid="citypin_sla_calendar_day_saved")
post_delete.connect(_calendar_day_changed, sender=CalendarDay, dispatch_uid="citypin_sla_calendar_day_deleted")


def _require_aware(value: datetime, name: str) -> None:
    # A naive time has no place on the calendar: guessing its zone would move due times by
    # hours without anyone noticing.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}")


def add_working_hours(start: datetime, hours: float, calendar: OfficeCalendar) -> datetime:
    """The instant at which `hours` working hours have elapsed since `start`, in the
    calendar's time zone. A start outside office hours counts from the next opening; a
    result exactly at a closing stays at that closing. `hours` == 0 returns `start` as given."""
    _require_aware(start, "start")
    if not math.isfinite(hours) or hours < 0:
        raise ValueError(f"hours must be a finite number >= 0, got {hours!r}")
    if hours == 0:
        return start
    if not calendar.periods:
        raise ImproperlyConfigured("The office calendar has no office period, so no working hour ever elapses.")
    # timedelta keeps microseconds exactly; a float of seconds would drift over long walks.
    remaining = timedelta(hours=hours)
    cursor = start.astimezone(UTC)
    day = start.astimezone(calendar.tz).date()
    idle_days = 0
    while True:
        if calendar.is_working_day(day):
            idle_days = 0
            for opens, closes in calendar.periods_on(day):
                begin = max(opens, cursor)
                if begin >= closes:
                    continue  # this period is over before the start
                available = closes - begin
                # "<=" keeps a result that lands on a closing in that period, not at the
                # next opening: the hours have elapsed by then.
                if remaining <= available:
                    return (begin + remaining).astimezone(calendar.tz)
                remaining -= available
        else:
            idle_days += 1
            if idle_days > MAX_IDLE_DAYS:
                first_idle = day - timedelta(days=MAX_IDLE_DAYS)
                raise ImproperlyConfigured(
                    f"The office calendar has no working day in the {MAX_IDLE_DAYS} days from {first_idle}: check "
                    "CITYPIN_WORKING_DAYS, CITYPIN_HOLIDAY_COUNTRY and the calendar exceptions (CalendarDay).")
        day += timedelta(days=1)


def working_hours_between(start: datetime, end: datetime, calendar: OfficeCalendar) -> float:
    """Working hours elapsed from `start` to `end` (0 if `end` is not after `start`): the
    time both within [start, end] and within the office periods of working days."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end <= start:
        return 0.0
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    day = start.astimezone(calendar.tz).date()
    last_day = end.astimezone(calendar.tz).date()
    total = timedelta(0)
    while day <= last_day:
        if calendar.is_working_day(day):
            for opens, closes in calendar.periods_on(day):
                overlap = min(closes, end_utc) - max(opens, start_utc)
                if overlap > timedelta(0):
                    total += overlap
        day += timedelta(days=1)
    return total / timedelta(hours=1)


def due_times(category: HasTargets, start: datetime,
              calendar: OfficeCalendar | None = None) -> tuple[datetime | None, datetime | None]:
    """(acknowledge by, resolve by) for a report of `category` counted from `start`; None
    where the category sets no target (0). Both count from `start`: the resolve target is
    the whole time allowed, not time after acknowledgement."""
    chosen = calendar if calendar is not None else office_calendar()

    def due(target: int | None) -> datetime | None:
        return add_working_hours(start, target, chosen) if target else None

    return due(category.target_acknowledge_hours), due(category.target_resolve_hours)
