"""Deadlines counted in Chinese working days (工作日).

Data-error reports must be answered within 5 working days, access requests within 10. A working day is a
day the State Council's annual holiday notice (国务院办公厅关于节假日安排的通知) makes a working day:
Monday to Friday minus public holidays, plus the weekends worked in exchange (调休).

The holiday data comes from the ``chinese-calendar`` library, which knows only the years it ships data for
(:func:`calendar_coverage`). Outside those years we count Monday to Friday and mark the result
``estimated``, so a caller can say "about" instead of presenting a guess as a legal deadline.

Counting follows the administrative-law rule that the day a period starts is not counted (期间开始的当日
不计算在内): the first working day *after* the filing day is day 1, even when the filing day is itself a
working day. Days are dates in China Standard Time, whatever time zone the filing time was given in.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

CHINA_TZ = ZoneInfo("Asia/Shanghai")
"""China Standard Time (UTC+8, no daylight saving): the clock the deadlines are set by."""

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Deadline:
    """When something is due.

    ``due_date`` is the last working day, a date in China; ``due_at`` is the last instant of that day
    in China Standard Time, as an aware UTC datetime (store it in a ``UTCDateTime`` column);
    ``estimated`` is true when a day in the counted span lies in a year without holiday data, so
    holidays and 调休 were not taken into account there.
    """

    due_date: date
    due_at: datetime
    estimated: bool


@functools.cache
def calendar_coverage() -> tuple[int, int]:
    """First and last year for which the installed ``chinese-calendar`` knows the holidays."""
    years = {day.year for day in chinese_calendar.holidays}
    return min(years), max(years)


def is_covered(day: date) -> bool:
    """Whether ``day`` lies in a year with holiday data (otherwise it is judged by weekday alone)."""
    first, last = calendar_coverage()
    return first <= day.year <= last


def is_working_day(day: date) -> bool:
    """Whether ``day`` (a date in China) is a working day; Monday to Friday outside the covered years."""
    _require_plain_date(day)
    if is_covered(day):
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5


def add_working_days(start: datetime | date, n: int) -> Deadline:
    """The deadline ``n`` working days after ``start``.

    ``start`` is an aware datetime (converted to China Standard Time to find the filing day) or a date
    in China. Day 1 is the first working day after the filing day, so a request filed on a Friday
    evening with ``n=1`` is due on the next Monday, or later if that is a holiday.
    """
    if n <= 0:
        raise ValueError(f"a deadline needs a positive number of working days, got {n}")
    day = _china_date(start)
    estimated = False
    remaining = n
    while remaining:
        day += _ONE_DAY
        estimated = estimated or not is_covered(day)
        if is_working_day(day):
            remaining -= 1
    due_at = datetime.combine(day, time.max, tzinfo=CHINA_TZ).astimezone(UTC)
    return Deadline(due_date=day, due_at=due_at, estimated=estimated)


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end``; negative when ``end`` is before ``start``.

    ``working_days_between(deadline.due_date, today)`` is how many working days a task is overdue.
    """
    _require_plain_date(start)
    _require_plain_date(end)
    if end < start:
        return -working_days_between(end, start)
    count = 0
    day = start
    while day < end:
        day += _ONE_DAY
        if is_working_day(day):
            count += 1
    return count


def is_overdue(deadline: Deadline, now: datetime) -> bool:
    """Whether ``now`` (an aware datetime) is past the end of the deadline's last working day."""
    if now.tzinfo is None:
        raise ValueError("is_overdue needs an aware datetime; a naive one has no defined day in China")
    return now > deadline.due_at


def _china_date(moment: datetime | date) -> date:
    if not isinstance(moment, datetime):
        return moment
    # A naive datetime could be UTC (what we store) or Beijing time (what people type), and the two
    # disagree about the day for eight hours of every day; refusing it beats guessing.
    if moment.tzinfo is None:
        raise ValueError("a deadline needs an aware datetime or a date; got a naive datetime")
    return moment.astimezone(CHINA_TZ).date()


def _require_plain_date(day: date) -> None:
    # datetime is a subclass of date, and chinese_calendar would silently take its date in whatever zone
    # it carries; a UTC evening is already the next day in China.
    if isinstance(day, datetime):
        raise TypeError("pass a date in China, not a datetime; convert with .astimezone(CHINA_TZ).date()")
