"""Service targets in working hours (incidents/sla.py).

The office works 07:30-11:30 and 13:30-17:00 (7.5 hours a day), Monday to Friday, in
Asia/Ho_Chi_Minh, with Vietnam's public holidays off. Every expected time below is placed by
hand so that it can be checked on paper; the weekday of each date is written next to it.
"""

import random
import time as stopwatch
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import holidays
import pytest
from django.core.exceptions import ImproperlyConfigured

from incidents.models import CalendarDay, Category
from incidents.sla import (
    OfficeCalendar,
    add_working_hours,
    due_times,
    forget_calendar,
    office_calendar,
    parse_office_hours,
    working_hours_between,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICE_HOURS = "07:30-11:30,13:30-17:00"


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in Ho Chi Minh City."""
    return datetime(year, month, day, hour, minute, tzinfo=HCM)


def vietnam(exceptions: dict[date, bool] | None = None, weekdays=frozenset(range(5)), country: str = "VN",
            hours: str = OFFICE_HOURS) -> OfficeCalendar:
    """The office calendar of the settings, built by hand (no database)."""
    return OfficeCalendar(periods=parse_office_hours(hours), weekdays=frozenset(weekdays), country=country,
                          exceptions=exceptions or {}, tz=HCM)


@pytest.fixture(autouse=True)
def no_cached_calendar():
    """Each test reads the calendar afresh, and leaves none behind built from its rolled-back rows."""
    forget_calendar()
    yield
    forget_calendar()


# An ordinary week: Monday 8 June 2026 to Friday 12 June 2026, no holiday near it.

def test_four_hours_from_monday_opening_end_at_the_lunch_break_not_after_it():
    assert add_working_hours(at(2026, 6, 8, 7, 30), 4, vietnam()) == at(2026, 6, 8, 11, 30)


def test_a_full_day_of_seven_and_a_half_hours_from_monday_opening_ends_at_monday_closing():
    assert add_working_hours(at(2026, 6, 8, 7, 30), 7.5, vietnam()) == at(2026, 6, 8, 17, 0)


def test_eight_hours_from_monday_opening_end_half_an_hour_into_tuesday():
    # 4 h in the morning + 3.5 h in the afternoon = 7.5 h on Monday; the last 0.5 h is Tuesday's.
    assert add_working_hours(at(2026, 6, 8, 7, 30), 8, vietnam()) == at(2026, 6, 9, 8, 0)


def test_two_hours_from_friday_at_four_end_monday_at_half_past_eight():
    # Friday 12 June 16:00-17:00 is 1 h; the weekend is skipped; Monday 15 June 07:30-08:30 is the other.
    assert add_working_hours(at(2026, 6, 12, 16, 0), 2, vietnam()) == at(2026, 6, 15, 8, 30)


def test_a_report_at_noon_counts_from_the_afternoon_opening():
    assert add_working_hours(at(2026, 6, 8, 12, 0), 1, vietnam()) == at(2026, 6, 8, 14, 30)


def test_a_report_at_eight_in_the_evening_counts_from_the_next_morning():
    assert add_working_hours(at(2026, 6, 8, 20, 0), 1, vietnam()) == at(2026, 6, 9, 8, 30)


def test_a_report_on_saturday_counts_from_monday_morning():
    assert add_working_hours(at(2026, 6, 13, 9, 0), 0.5, vietnam()) == at(2026, 6, 15, 8, 0)


def test_zero_hours_give_the_start_back_unchanged_even_outside_office_hours():
    start = at(2026, 6, 13, 23, 59)  # Saturday night
    assert add_working_hours(start, 0, vietnam()) is start


def test_the_result_is_in_the_calendars_time_zone_whatever_the_start_was_given_in():
    start_in_utc = at(2026, 6, 8, 7, 30).astimezone(ZoneInfo("UTC"))  # Monday 00:30 UTC
    due = add_working_hours(start_in_utc, 1, vietnam())
    assert due == at(2026, 6, 8, 8, 30) and due.tzinfo == HCM and due.hour == 8


def test_a_naive_start_or_a_negative_number_of_hours_is_refused():
    with pytest.raises(ValueError):
        add_working_hours(datetime(2026, 6, 8, 7, 30), 1, vietnam())
    with pytest.raises(ValueError):
        add_working_hours(at(2026, 6, 8, 7, 30), -1, vietnam())


# Public holidays.

def test_the_holidays_package_gives_tet_2027_as_thursday_4_to_wednesday_10_february():
    vn_2027 = holidays.country_holidays("VN", years=2027, language="en_US")
    tet = sorted(day for day, name in vn_2027.items() if "Lunar New Year" in name)
    # 29 Tết (Thu 4), New Year's Eve (Fri 5), Mùng 1-5 (Sat 6 to Wed 10).
    assert tet == [date(2027, 2, d) for d in range(4, 11)]
    calendar = vietnam()
    assert not any(calendar.is_working_day(day) for day in tet)
    assert calendar.is_working_day(date(2027, 2, 3)) and calendar.is_working_day(date(2027, 2, 11))


def test_tet_2027_is_skipped():
    # Wednesday 3 February 16:00-17:00 is 1 h; Thursday 4 to Wednesday 10 are Tết; Thursday 11 gives the other.
    assert add_working_hours(at(2027, 2, 3, 16, 0), 2, vietnam()) == at(2027, 2, 11, 8, 30)


def test_reunification_day_and_labour_day_are_skipped():
    # 2026: Thursday 30 April and Friday 1 May are holidays, then the weekend.
    calendar = vietnam()
    assert not calendar.is_working_day(date(2026, 4, 30)) and not calendar.is_working_day(date(2026, 5, 1))
    # Wednesday 29 April 16:00-17:00 is 1 h; the other is Monday 4 May 07:30-08:30.
    assert add_working_hours(at(2026, 4, 29, 16, 0), 2, calendar) == at(2026, 5, 4, 8, 30)


def test_national_day_is_skipped():
    # 2027: Thursday 2 and Friday 3 September are off, then the weekend.
    # Wednesday 1 September 16:00-17:00 is 1 h; the other is Monday 6 September 07:30-08:30.
    assert add_working_hours(at(2027, 9, 1, 16, 0), 2, vietnam()) == at(2027, 9, 6, 8, 30)


def test_a_saturday_the_holiday_rules_make_a_working_day_is_worked_and_its_monday_is_off():
    # Vietnam 2026: Saturday 22 August is worked in exchange for Monday 31 August, bridging to National Day.
    calendar = vietnam()
    assert calendar.is_working_day(date(2026, 8, 22)) and not calendar.is_working_day(date(2026, 8, 31))
    # Friday 21 August 16:00-17:00 is 1 h; Saturday 22 August 07:30-08:30 is the other.
    assert add_working_hours(at(2026, 8, 21, 16, 0), 2, calendar) == at(2026, 8, 22, 8, 30)
    # From Friday 28 August 16:00: Monday 31, Tuesday 1 and Wednesday 2 September are off; Thursday 3 resumes.
    assert add_working_hours(at(2026, 8, 28, 16, 0), 2, calendar) == at(2026, 9, 3, 8, 30)


def test_without_a_holiday_country_only_weekdays_and_exceptions_count():
    assert vietnam(country="").is_working_day(date(2026, 4, 30))


def test_an_exception_overrides_both_the_weekday_rule_and_the_public_holidays():
    calendar = vietnam(exceptions={date(2026, 6, 13): True,    # Saturday worked
                                   date(2026, 6, 8): False,    # Monday closed
                                   date(2026, 4, 30): True})   # Reunification Day worked
    assert calendar.is_working_day(date(2026, 6, 13))
    assert not calendar.is_working_day(date(2026, 6, 8))
    assert calendar.is_working_day(date(2026, 4, 30))


# Working hours between two moments: the inverse of adding them.

def test_working_hours_between_friday_afternoon_and_monday_morning_count_only_office_time():
    assert working_hours_between(at(2026, 6, 12, 16, 0), at(2026, 6, 15, 8, 30), vietnam()) == 2.0
    assert working_hours_between(at(2026, 6, 12, 17, 0), at(2026, 6, 15, 7, 30), vietnam()) == 0.0


def test_working_hours_between_an_end_before_the_start_are_none():
    assert working_hours_between(at(2026, 6, 9, 8, 0), at(2026, 6, 8, 8, 0), vietnam()) == 0.0


@pytest.mark.parametrize("hours", [0.25, 1, 3.5, 4, 7.5, 8, 13.25, 22.5, 40, 100])
@pytest.mark.parametrize("start", [at(2026, 4, 29, 10, 0), at(2026, 4, 29, 12, 15), at(2026, 4, 28, 19, 0)])
def test_working_hours_between_undo_add_working_hours_over_the_holiday_week(start, hours):
    # Tuesday 28 and Wednesday 29 April 2026, just before the 30/4 and 1/5 holidays.
    calendar = vietnam()
    due = add_working_hours(start, hours, calendar)
    assert working_hours_between(start, due, calendar) == pytest.approx(hours, abs=1e-9)


# Malformed or empty calendars.

@pytest.mark.parametrize("raw", [
    "",                                  # nothing
    "  ",                                # nothing
    "07:30",                             # no end
    "07:30-11:30;13:30-17:00",           # wrong separator
    "07:30-11:30,",                      # empty period
    "7h30-11h30",                        # not HH:MM
    "11:30-07:30",                       # ends before it starts
    "22:00-02:00",                       # crosses midnight
    "08:00-08:00",                       # empty period
    "25:00-26:00",                       # no such hour
    "07:30-11:75",                       # no such minute
    "13:30-17:00,07:30-11:30",           # out of order
    "07:30-12:00,11:30-17:00",           # overlapping
])
def test_malformed_office_hours_are_refused_naming_the_setting(raw):
    with pytest.raises(ImproperlyConfigured, match="CITYPIN_OFFICE_HOURS"):
        parse_office_hours(raw)


def test_well_formed_office_hours_are_parsed_in_order():
    assert parse_office_hours(" 07:30 - 11:30 , 13:30-17:00 ") == ((time(7, 30), time(11, 30)), (time(13, 30), time(17)))
    assert parse_office_hours("07:00-12:00,12:00-16:00") == ((time(7), time(12)), (time(12), time(16)))


@pytest.mark.django_db
def test_the_office_calendar_refuses_malformed_settings(settings):
    settings.CITYPIN_OFFICE_HOURS = "7:30 to 11:30"
    with pytest.raises(ImproperlyConfigured, match="CITYPIN_OFFICE_HOURS"):
        office_calendar()
    settings.CITYPIN_OFFICE_HOURS = OFFICE_HOURS
    settings.CITYPIN_WORKING_DAYS = "0,1,2,3,7"
    with pytest.raises(ImproperlyConfigured, match="CITYPIN_WORKING_DAYS"):
        office_calendar()
    settings.CITYPIN_WORKING_DAYS = "0,1,2,3,4"
    settings.CITYPIN_HOLIDAY_COUNTRY = "ZZ"
    with pytest.raises(ImproperlyConfigured, match="CITYPIN_HOLIDAY_COUNTRY"):
        office_calendar()


def test_a_calendar_without_any_working_day_raises_instead_of_looping():
    never = vietnam(weekdays=(), country="")
    began = stopwatch.monotonic()
    with pytest.raises(ImproperlyConfigured, match="no working day"):
        add_working_hours(at(2026, 6, 8, 7, 30), 1, never)
    assert stopwatch.monotonic() - began < 5


def test_a_calendar_without_office_periods_raises():
    no_hours = OfficeCalendar(periods=(), weekdays=frozenset(range(5)), country="", exceptions={}, tz=HCM)
    with pytest.raises(ImproperlyConfigured):
        add_working_hours(at(2026, 6, 8, 7, 30), 1, no_hours)


# Due times of a category.

def test_a_target_of_zero_gives_no_due_time():
    # Acknowledge: none. Resolve in 16 h: Monday 7.5 h + Tuesday 7.5 h + Wednesday 07:30-08:30.
    category = SimpleNamespace(target_acknowledge_hours=0, target_resolve_hours=16)
    assert due_times(category, at(2026, 6, 8, 7, 30), vietnam()) == (None, at(2026, 6, 10, 8, 30))
    assert due_times(SimpleNamespace(target_acknowledge_hours=0, target_resolve_hours=0),
                     at(2026, 6, 8, 7, 30), vietnam()) == (None, None)


def test_due_times_of_an_unsaved_category_count_both_targets_from_the_report():
    category = Category(target_acknowledge_hours=4, target_resolve_hours=0)
    assert due_times(category, at(2026, 6, 12, 16, 0), vietnam()) == (at(2026, 6, 15, 10, 30), None)


# Long spans: period by period, checked against a plain half-hour-by-half-hour count.

def naive_add(start: datetime, hours: float, calendar: OfficeCalendar) -> datetime:
    """Walk half-hour slots (every opening and closing here is on :00 or :30, and so is the
    start), counting the slots that lie in office hours on working days: the due time is the
    end of the last slot needed."""
    slots_needed = round(hours * 2)
    slot = start
    while True:
        local = slot.astimezone(calendar.tz)
        in_office = calendar.is_working_day(local.date()) and any(
            opens <= local.time() < closes for opens, closes in calendar.periods)
        slot += timedelta(minutes=30)
        if in_office:
            slots_needed -= 1
            if slots_needed == 0:
                return slot


def test_two_thousand_hours_are_counted_quickly_and_like_a_plain_count():
    calendar = vietnam(exceptions={date(2026, 10, 10): True, date(2026, 12, 24): False})
    rng = random.Random(20260608)
    starts = [at(2026, 1, 1) + timedelta(minutes=30 * rng.randrange(2 * 24 * 365)) for _ in range(5)]
    add_working_hours(starts[0], 2000, calendar)  # the holidays of each year are computed once, then cached
    for start in starts:
        began = stopwatch.perf_counter()
        due = add_working_hours(start, 2000, calendar)
        took = stopwatch.perf_counter() - began
        assert due == naive_add(start, 2000, calendar), start
        assert working_hours_between(start, due, calendar) == 2000
        assert took < 0.5, f"{took:.3f} s for 2000 hours from {start}"


# The calendar of the settings and the CalendarDay rows.

@pytest.mark.django_db
def test_a_make_up_saturday_entered_as_a_calendar_day_is_worked():
    CalendarDay.objects.create(date=date(2026, 6, 13), is_working_day=True, name="Làm bù")
    forget_calendar()
    # Friday 12 June 16:00-17:00 is 1 h; Saturday 13 June 07:30-08:30 is the other.
    assert add_working_hours(at(2026, 6, 12, 16, 0), 2, office_calendar()) == at(2026, 6, 13, 8, 30)


@pytest.mark.django_db
def test_a_closure_entered_as_a_calendar_day_is_skipped():
    CalendarDay.objects.create(date=date(2026, 6, 15), is_working_day=False, name="Đóng cửa")
    forget_calendar()
    # Friday 12 June 16:00-17:00 is 1 h; Monday 15 June is closed; Tuesday 16 June 07:30-08:30.
    assert add_working_hours(at(2026, 6, 12, 16, 0), 2, office_calendar()) == at(2026, 6, 16, 8, 30)


@pytest.mark.django_db
def test_the_office_calendar_is_reused_without_a_query(django_assert_num_queries):
    first = office_calendar()
    with django_assert_num_queries(0):
        assert office_calendar() is first


@pytest.mark.django_db
def test_saving_or_deleting_a_calendar_day_drops_the_cached_calendar():
    saturday = date(2026, 6, 13)
    assert not office_calendar().is_working_day(saturday)
    row = CalendarDay.objects.create(date=saturday, is_working_day=True)
    assert office_calendar().is_working_day(saturday)
    row.is_working_day = False
    row.save()
    assert not office_calendar().is_working_day(saturday)
    row.delete()
    assert saturday not in office_calendar().exceptions


@pytest.mark.django_db
def test_due_times_use_the_office_calendar_of_the_settings_by_default():
    category = SimpleNamespace(target_acknowledge_hours=2, target_resolve_hours=8)
    # Friday 12 June 16:00-17:00 is 1 h. Acknowledge: Monday 07:30-08:30. Resolve: Monday's
    # morning (4 h) and 13:30-16:30 (3 h).
    assert due_times(category, at(2026, 6, 12, 16, 0)) == (at(2026, 6, 15, 8, 30), at(2026, 6, 15, 16, 30))
