"""Working hours (agents/availability/hours.py): the text people write, and the arithmetic in
wall-clock time, across daylight-saving changes and holidays."""

import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.availability.hours import (
    ALWAYS,
    ScheduleError,
    add_working_time,
    describe,
    is_open,
    next_open,
    parse_schedule,
    window_at,
)

LONDON = zoneinfo.ZoneInfo("Europe/London")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
SYDNEY = zoneinfo.ZoneInfo("Australia/Sydney")
UTC = zoneinfo.ZoneInfo("UTC")
WEEKDAYS = parse_schedule("Mon-Fri 09:00-18:00")


def at(zone, *parts):
    return datetime(*parts, tzinfo=zone)


def test_blank_means_always_and_a_schedule_reads_back_as_written():
    assert parse_schedule("  ") is ALWAYS
    assert describe(parse_schedule("mon-fri 09:00-12:00 13:00-17:30; sat 10:00-14:00")) == (
        "Mon-Fri 09:00-12:00 13:00-17:30, Sat 10:00-14:00"
    )
    # overlapping windows merge; a range may wrap over the week's end
    assert describe(parse_schedule("Mon 09:00-12:00 11:00-13:00")) == "Mon 09:00-13:00"
    assert describe(parse_schedule("Sat-Mon 10:00-11:00")) == "Mon 10:00-11:00, Sat-Sun 10:00-11:00"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Mon", "give the days, then the hours"),
        ("Funday 09:00-10:00", "is not a day"),
        ("Mon 9-10", "is not a window of hours"),
        ("Mon 18:00-09:00", "Split a shift over midnight"),
        ("Mon 09:00-25:00", "is not a time of day"),
        ("Mon 09:60-10:00", "is not a time of day"),
        ("Mon 09:00-10:00, " * 40, "at most 300 characters"),
    ],
)
def test_a_schedule_that_cannot_be_read_says_where_and_how_to_write_it(text, says):
    with pytest.raises(ScheduleError, match=says):
        parse_schedule(text)


def test_a_text_at_17_55_with_15_minutes_due_and_hours_ending_18_00_is_due_09_10_next_day():
    # given a Tuesday 17:55 in London
    sent = at(LONDON, 2026, 12, 1, 17, 55)
    # when 15 working minutes are added
    due = add_working_time(WEEKDAYS, set(), LONDON, sent, timedelta(minutes=15))
    # then 5 count today and 10 tomorrow morning
    assert due.astimezone(LONDON) == at(LONDON, 2026, 12, 2, 9, 10)


def test_friday_evening_runs_over_the_weekend_and_a_holiday_to_tuesday():
    sent = at(LONDON, 2026, 12, 4, 17, 50)  # a Friday
    holidays = {date(2026, 12, 7)}  # Monday off
    due = add_working_time(WEEKDAYS, holidays, LONDON, sent, timedelta(minutes=30))
    assert due.astimezone(LONDON) == at(LONDON, 2026, 12, 8, 9, 20)


def test_outside_hours_the_next_opening_and_inside_the_window_s_end():
    evening = at(NEW_YORK, 2026, 12, 1, 19, 0)
    assert not is_open(WEEKDAYS, set(), NEW_YORK, evening)
    assert next_open(WEEKDAYS, set(), NEW_YORK, evening).astimezone(NEW_YORK) == at(
        NEW_YORK, 2026, 12, 2, 9, 0
    )
    start, end = window_at(WEEKDAYS, set(), NEW_YORK, at(NEW_YORK, 2026, 12, 2, 10, 0))
    assert (start.astimezone(NEW_YORK).hour, end.astimezone(NEW_YORK).hour) == (9, 18)


def test_hours_are_wall_clock_on_both_sides_of_a_dst_change():
    # given 09:00-18:00 every day across New York's spring-forward (Sun 8 Mar 2026) and fall-back
    daily = parse_schedule("Mon-Sun 09:00-18:00")
    for day in (7, 8, 9):
        start, end = window_at(daily, set(), NEW_YORK, at(NEW_YORK, 2026, 3, day, 12, 0))
        assert start.astimezone(NEW_YORK).hour == 9 and end.astimezone(NEW_YORK).hour == 18
        assert end - start == timedelta(hours=9)
    # a night window over the change has the real length of that night: 23 h and 25 h days
    night = parse_schedule("Sun 00:00-24:00")
    start, end = window_at(night, set(), NEW_YORK, at(NEW_YORK, 2026, 3, 8, 12, 0))
    assert end - start == timedelta(hours=23)
    start, end = window_at(night, set(), NEW_YORK, at(NEW_YORK, 2026, 11, 1, 12, 0))
    assert end - start == timedelta(hours=25)


def test_two_working_hours_from_01_00_on_the_spring_forward_night_end_at_04_00_local():
    weekend = parse_schedule("Sat-Sun 00:00-24:00")
    due = add_working_time(
        weekend, set(), NEW_YORK, at(NEW_YORK, 2026, 3, 8, 1, 0), timedelta(hours=2)
    )
    # 01:00 EST + 2 h of real time = 04:00 EDT (02:00-03:00 does not exist that night)
    assert due.astimezone(NEW_YORK) == at(NEW_YORK, 2026, 3, 8, 4, 0)


def test_a_window_starting_inside_the_spring_forward_gap_starts_after_it():
    gap = parse_schedule("Sun 02:30-05:00")
    start, _ = window_at(gap, set(), NEW_YORK, at(NEW_YORK, 2026, 3, 8, 4, 0))
    assert start.astimezone(NEW_YORK) == at(NEW_YORK, 2026, 3, 8, 3, 30)


def test_touching_windows_are_one_stretch():
    start, end = window_at(
        parse_schedule("Fri 22:00-24:00, Sat 00:00-06:00"),
        set(),
        LONDON,
        at(LONDON, 2026, 12, 4, 23, 0),
    )
    assert end.astimezone(LONDON) == at(LONDON, 2026, 12, 5, 6, 0)


def test_a_schedule_with_no_hours_never_opens_and_nothing_falls_due():
    never = parse_schedule("Mon 09:00-10:00")
    every_monday_off = {date(2026, 11, 30) + timedelta(weeks=n) for n in range(60)}
    moment = at(UTC, 2026, 12, 1, 12, 0)
    assert next_open(never, every_monday_off, UTC, moment) is None
    assert add_working_time(never, every_monday_off, UTC, moment, timedelta(minutes=1)) is None


SCHEDULES = st.sampled_from(
    [
        "Mon-Fri 09:00-18:00",
        "Mon-Fri 09:00-12:00 13:00-17:30, Sat 10:00-14:00",
        "Sun-Thu 22:00-24:00, Mon-Fri 00:00-06:00",
        "Sat-Sun 00:00-24:00",
        "Mon-Sun 01:30-03:30",  # straddles the 02:00 changes of New York
        "",
    ]
)
ZONES = st.sampled_from([LONDON, NEW_YORK, SYDNEY, UTC])
# Moments around the 2026 changes of the zones above (and ordinary weeks).
MOMENTS = st.datetimes(
    min_value=datetime(2026, 3, 1), max_value=datetime(2026, 11, 10), timezones=st.just(UTC)
)


@settings(max_examples=120, deadline=None)
@given(SCHEDULES, ZONES, MOMENTS, st.integers(min_value=1, max_value=2 * 24 * 60))
def test_working_time_added_is_exactly_the_time_inside_the_windows(text, zone, start, minutes):
    # given any schedule, zone and moment (DST changes included)
    schedule = parse_schedule(text)
    holidays = {date(2026, 4, 3), date(2026, 10, 26)}
    # when a duration of working time is added
    due = add_working_time(schedule, holidays, zone, start, timedelta(minutes=minutes))
    # then the working time between start and due, walked minute by minute in real (UTC)
    # time, is the duration, and the due moment is inside hours (or at a window's end)
    assert due is not None
    step = timedelta(minutes=1)
    counted = 0
    cursor = start
    while cursor < due:
        counted += is_open(schedule, holidays, zone, cursor)
        cursor += step
    assert counted == minutes
    # (the last instant before the due moment is working time)
    assert is_open(schedule, holidays, zone, due - timedelta(microseconds=1))


@settings(max_examples=150, deadline=None)
@given(SCHEDULES, ZONES, MOMENTS)
def test_next_open_is_open_and_nothing_before_it_is(text, zone, moment):
    schedule = parse_schedule(text)
    opening = next_open(schedule, set(), zone, moment)
    assert opening is not None and opening >= moment
    assert is_open(schedule, set(), zone, opening)
    # every quarter of an hour between the moment and the opening is outside hours
    cursor = moment
    while cursor + timedelta(minutes=15) < opening:
        assert not is_open(schedule, set(), zone, cursor)
        cursor += timedelta(minutes=15)
