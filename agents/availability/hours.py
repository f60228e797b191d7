"""Working hours: a weekly schedule written as people write it, and the arithmetic on it.

A schedule is text such as ``Mon-Fri 09:00-18:00, Sat 10:00-14:00``: comma- or
semicolon-separated parts, each a day or a range of days (``Mon``, ``Mon-Fri``, ``Sun-Tue``)
and one or more windows (``09:00-12:00 13:00-17:30``). ``24:00`` ends a day. An overnight
shift is two windows (``Fri 22:00-24:00, Sat 00:00-06:00``). Blank means *always*.

Times are wall-clock times in the company's zone: 09:00 is 09:00 on both sides of a
daylight-saving change, and a day that is 23 or 25 hours long has 23 or 25 hours in its
windows. Holidays are whole local days without hours.

Pure: no database, no clock — every function takes the moment it reasons about.
"""

import functools
import re
import zoneinfo
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_TEXT = 300

_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
UTC = zoneinfo.ZoneInfo("UTC")


class ScheduleError(ValueError):
    """The schedule's text can't be read; the message says where and how to write it."""


@dataclass(frozen=True)
class Schedule:
    """Per weekday (0 = Monday), the windows as (start, end) minutes since local midnight."""

    days: tuple[tuple[tuple[int, int], ...], ...]
    always: bool = False

    def windows(self, weekday: int) -> tuple[tuple[int, int], ...]:
        return self.days[weekday]

    def is_empty(self) -> bool:
        return not self.always and not any(self.days)


ALWAYS = Schedule(days=((),) * 7, always=True)


def _day(word: str, part: str) -> int:
    key = word.strip().lower()[:3]
    if key not in DAYS or len(word.strip()) > 9:
        raise ScheduleError(
            f"“{part}”: “{word}” is not a day. Write days as Mon, Tue, Wed, Thu, Fri, Sat, Sun."
        )
    return DAYS.index(key)


def _minutes(hours: str, minutes: str, part: str) -> int:
    h, m = int(hours), int(minutes)
    if m > 59 or h > 24 or (h == 24 and m):
        raise ScheduleError(f"“{part}”: {hours}:{minutes} is not a time of day (00:00 to 24:00).")
    return h * 60 + m


@functools.lru_cache(maxsize=1024)
def parse_schedule(text: str) -> Schedule:
    """The schedule ``text`` describes (``ALWAYS`` for blank); ``ScheduleError`` otherwise.
    Cached: every routing decision reads the same few texts (a Schedule is immutable)."""
    text = (text or "").strip()
    if not text:
        return ALWAYS
    if len(text) > MAX_TEXT:
        raise ScheduleError(f"Working hours are at most {MAX_TEXT} characters.")
    days: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    for part in re.split(r"[,;\n]", text):
        part = part.strip()
        if not part:
            continue
        words = part.split()
        if len(words) < 2:
            raise ScheduleError(
                f"“{part}”: give the days, then the hours, e.g. “Mon-Fri 09:00-18:00”."
            )
        span, *windows = words
        if "-" in span:
            first_word, _, last_word = span.partition("-")
            first, last = _day(first_word, part), _day(last_word, part)
        else:
            first = last = _day(span, part)
        selected = [(first + n) % 7 for n in range((last - first) % 7 + 1)]
        for window in windows:
            found = _WINDOW.match(window)
            if not found:
                raise ScheduleError(
                    f"“{part}”: “{window}” is not a window of hours. Write it as 09:00-18:00."
                )
            start = _minutes(found[1], found[2], part)
            end = _minutes(found[3], found[4], part)
            if end <= start:
                raise ScheduleError(
                    f"“{part}”: {window} ends before it starts. Split a shift over midnight "
                    "into two, e.g. “Fri 22:00-24:00, Sat 00:00-06:00”."
                )
            for day in selected:
                days[day].append((start, end))
    merged = []
    for windows in days:
        out: list[tuple[int, int]] = []
        for start, end in sorted(windows):
            if out and start <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], end))
            else:
                out.append((start, end))
        merged.append(tuple(out))
    return Schedule(days=tuple(merged))


def describe(schedule: Schedule) -> str:
    """The schedule as text again, days with the same hours grouped: ``Mon-Fri 09:00-18:00``."""
    if schedule.always:
        return "Always"
    if schedule.is_empty():
        return "Never"
    parts = []
    day = 0
    while day < 7:
        windows = schedule.days[day]
        last = day
        while last + 1 < 7 and schedule.days[last + 1] == windows:
            last += 1
        if windows:
            span = DAY_LABELS[day] if last == day else f"{DAY_LABELS[day]}-{DAY_LABELS[last]}"
            hours = " ".join(f"{_clock(s)}-{_clock(e)}" for s, e in windows)
            parts.append(f"{span} {hours}")
        day = last + 1
    return ", ".join(parts)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _at(day: date, minutes: int, zone: zoneinfo.ZoneInfo) -> datetime:
    """The aware moment of local wall-clock ``minutes`` on ``day`` (24:00 = next midnight).
    A wall-clock time that a spring-forward skips is read as the moment after the gap
    (fold=0 gives the offset before the gap, so the UTC moment lands past it)."""
    if minutes >= 24 * 60:
        moment = datetime.combine(day + timedelta(days=1), time(0), zone)
    else:
        moment = datetime.combine(day, time(minutes // 60, minutes % 60), zone)
    # In UTC: aware datetimes sharing a zone add and compare by wall clock, not by time.
    return moment.astimezone(UTC)


def _local_windows(
    schedule: Schedule, holidays: Collection[date], day: date, zone: zoneinfo.ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """That local day's working windows as aware UTC moments (none on a holiday)."""
    if day in holidays:
        return []
    if schedule.always:
        return [(_at(day, 0, zone), _at(day, 24 * 60, zone))]
    return [(_at(day, s, zone), _at(day, e, zone)) for s, e in schedule.windows(day.weekday())]


# A year of days: far enough for any absence-free search, bounded for a schedule with no hours.
_HORIZON_DAYS = 370


def _window(
    schedule: Schedule, holidays: Collection[date], zone: zoneinfo.ZoneInfo, moment: datetime
) -> tuple[datetime, datetime] | None:
    local = moment.astimezone(zone)
    # A window may end after midnight only as 24:00, so the previous day's last window and
    # today's windows are all that can hold the moment.
    for day in (local.date() - timedelta(days=1), local.date()):
        for start, end in _local_windows(schedule, holidays, day, zone):
            if start <= moment < end:
                return start, end
    return None


def window_at(
    schedule: Schedule, holidays: Collection[date], zone: zoneinfo.ZoneInfo, moment: datetime
) -> tuple[datetime, datetime] | None:
    """The working stretch ``moment`` falls in (start, end: windows that touch are one), or
    None outside hours."""
    found = _window(schedule, holidays, zone, moment)
    return None if found is None else _stretch(schedule, holidays, zone, *found)


def _stretch(
    schedule: Schedule,
    holidays: Collection[date],
    zone: zoneinfo.ZoneInfo,
    start: datetime,
    end: datetime,
) -> tuple[datetime, datetime]:
    # Windows that touch (Mon 00:00-24:00 then Tue 00:00-24:00) are one stretch: "until"
    # is when the agent really stops, not midnight.
    for _ in range(_HORIZON_DAYS):
        following = _local_windows(schedule, holidays, end.astimezone(zone).date(), zone)
        joined = next((e for s, e in following if s == end and e > end), None)
        if joined is None:
            break
        end = joined
    return start, end


def is_open(
    schedule: Schedule, holidays: Collection[date], zone: zoneinfo.ZoneInfo, moment: datetime
) -> bool:
    """Inside working hours (every routing decision asks this: no walk to the stretch's end)."""
    if schedule.always and not holidays:
        return True
    return _window(schedule, holidays, zone, moment) is not None


def next_open(
    schedule: Schedule, holidays: Collection[date], zone: zoneinfo.ZoneInfo, moment: datetime
) -> datetime | None:
    """The first moment at or after ``moment`` inside working hours (None: no hours within
    a year)."""
    moment = moment.astimezone(UTC)
    if is_open(schedule, holidays, zone, moment):
        return moment
    day = moment.astimezone(zone).date()
    for offset in range(_HORIZON_DAYS):
        for start, end in _local_windows(schedule, holidays, day + timedelta(days=offset), zone):
            if end > moment:
                return max(start, moment)
    return None


def add_working_time(
    schedule: Schedule,
    holidays: Collection[date],
    zone: zoneinfo.ZoneInfo,
    start: datetime,
    duration: timedelta,
) -> datetime | None:
    """The moment ``duration`` of working time after ``start``: time outside hours and on
    holidays does not count. A text at 17:55 with 15 minutes due and hours ending 18:00 is
    due at 09:10 the next working day. None when the schedule has no hours within a year."""
    remaining = duration
    cursor = start = start.astimezone(UTC)
    day = start.astimezone(zone).date() - timedelta(days=1)
    for offset in range(_HORIZON_DAYS):
        for window_start, window_end in _local_windows(
            schedule, holidays, day + timedelta(days=offset), zone
        ):
            if window_end <= cursor:
                continue
            begin = max(window_start, cursor)
            if begin + remaining <= window_end:
                return begin + remaining
            remaining -= window_end - begin
            cursor = window_end
    return None
