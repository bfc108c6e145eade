"""Deadlines in Chinese working days (工作日), against the real holiday notices the library carries.

National Day 2025: 1–8 October off, Sunday 28 September and Saturday 11 October worked (调休).
Spring Festival 2026: 15–23 February off, Saturday 14 and Saturday 28 February worked.
Dragon Boat Festival 2025: 31 May – 2 June off.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from govshare.core.workdays import (
    CHINA_TZ,
    Deadline,
    add_working_days,
    calendar_coverage,
    is_overdue,
    is_working_day,
    working_days_between,
)

FRIDAY_EVENING_BEFORE_NATIONAL_DAY = datetime(2025, 9, 26, 19, 0, tzinfo=CHINA_TZ)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def test_installed_calendar_covers_the_years_these_tests_use() -> None:
    first, last = calendar_coverage()
    assert first <= 2025 and last >= 2026


def test_national_day_2025_is_off_and_its_swapped_weekends_are_worked() -> None:
    assert not any(is_working_day(d) for d in days(date(2025, 10, 1), date(2025, 10, 8)))
    assert is_working_day(date(2025, 9, 28))  # Sunday, 调休
    assert is_working_day(date(2025, 10, 11))  # Saturday, 调休
    assert not is_working_day(date(2025, 9, 27))  # ordinary Saturday
    assert not is_working_day(date(2025, 10, 12))  # ordinary Sunday
    assert is_working_day(date(2025, 10, 9))


def test_spring_festival_2026_is_off_and_its_swapped_saturdays_are_worked() -> None:
    assert not any(is_working_day(d) for d in days(date(2026, 2, 15), date(2026, 2, 23)))
    assert is_working_day(date(2026, 2, 14))
    assert is_working_day(date(2026, 2, 28))
    assert is_working_day(date(2026, 2, 24))


def test_friday_evening_request_with_one_working_day_is_due_next_monday() -> None:
    deadline = add_working_days(datetime(2025, 11, 14, 19, 0, tzinfo=CHINA_TZ), 1)
    assert deadline.due_date == date(2025, 11, 17)
    assert deadline.estimated is False


def test_friday_evening_request_skips_a_monday_holiday() -> None:
    # Dragon Boat Festival: Saturday 31 May to Monday 2 June 2025.
    assert add_working_days(datetime(2025, 5, 30, 20, 0, tzinfo=CHINA_TZ), 1).due_date == date(2025, 6, 3)


def test_filing_day_is_not_counted_even_when_it_is_a_working_day() -> None:
    assert add_working_days(datetime(2025, 11, 12, 9, 0, tzinfo=CHINA_TZ), 1).due_date == date(2025, 11, 13)
    assert add_working_days(date(2025, 11, 12), 1).due_date == date(2025, 11, 13)


@pytest.mark.parametrize(
    ("n", "due"),
    [
        (1, date(2025, 9, 28)),  # the swapped Sunday counts
        (2, date(2025, 9, 29)),
        (3, date(2025, 9, 30)),
        (4, date(2025, 10, 9)),  # 1–8 October skipped
        (5, date(2025, 10, 10)),
        (6, date(2025, 10, 11)),  # the swapped Saturday counts
        (7, date(2025, 10, 13)),
    ],
)
def test_error_report_deadline_across_national_day_2025(n: int, due: date) -> None:
    deadline = add_working_days(FRIDAY_EVENING_BEFORE_NATIONAL_DAY, n)
    assert deadline.due_date == due
    assert deadline.estimated is False


def test_ten_working_day_access_request_across_spring_festival_2026() -> None:
    # Sat 14 Feb, then Tue 24 – Fri 27, Sat 28 Feb, Mon 2 – Thu 5 Mar.
    assert add_working_days(date(2026, 2, 13), 10).due_date == date(2026, 3, 5)


def test_five_working_day_error_report_across_spring_festival_2026() -> None:
    # Thu 12, Fri 13, Sat 14 Feb, then Tue 24, Wed 25 Feb.
    assert add_working_days(date(2026, 2, 11), 5).due_date == date(2026, 2, 25)


def test_deadline_is_end_of_due_day_in_china_as_aware_utc() -> None:
    deadline = add_working_days(date(2025, 9, 25), 1)
    assert deadline.due_date == date(2025, 9, 26)
    assert deadline.due_at.tzinfo is UTC
    assert deadline.due_at == datetime(2025, 9, 26, 15, 59, 59, 999999, tzinfo=UTC)
    assert deadline.due_at.astimezone(CHINA_TZ).date() == date(2025, 9, 26)


def test_filing_at_2330_beijing_is_still_that_day() -> None:
    # 15:30 UTC on Thursday is 23:30 Thursday in Beijing: day 1 is Friday.
    deadline = add_working_days(datetime(2025, 9, 25, 15, 30, tzinfo=UTC), 1)
    assert deadline.due_date == date(2025, 9, 26)


def test_filing_after_midnight_beijing_counts_from_the_next_day_although_utc_says_otherwise() -> None:
    # 16:30 UTC on Thursday is 00:30 Friday in Beijing: day 1 is the swapped Sunday, 28 September.
    deadline = add_working_days(datetime(2025, 9, 25, 16, 30, tzinfo=UTC), 1)
    assert deadline.due_date == date(2025, 9, 28)


def test_naive_start_is_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        add_working_days(datetime(2025, 9, 25, 23, 30), 1)


@pytest.mark.parametrize("n", [0, -1, -10])
def test_zero_or_negative_working_days_are_rejected(n: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        add_working_days(date(2025, 9, 25), n)


def test_overdue_only_after_midnight_beijing_of_the_due_day() -> None:
    deadline = add_working_days(date(2025, 9, 25), 1)  # due Friday 26 September
    assert not is_overdue(deadline, datetime(2025, 9, 26, 15, 59, 59, tzinfo=UTC))  # 23:59:59 Beijing
    assert not is_overdue(deadline, datetime(2025, 9, 26, 23, 59, 59, 999999, tzinfo=CHINA_TZ))
    assert is_overdue(deadline, datetime(2025, 9, 26, 16, 0, tzinfo=UTC))  # 00:00 Saturday Beijing
    assert is_overdue(deadline, datetime(2025, 9, 27, 0, 0, tzinfo=CHINA_TZ))


def test_is_overdue_rejects_naive_now() -> None:
    deadline = add_working_days(date(2025, 9, 25), 1)
    with pytest.raises(ValueError, match="aware"):
        is_overdue(deadline, datetime(2025, 9, 27, 12, 0))


def test_year_outside_coverage_falls_back_to_weekdays_and_is_estimated() -> None:
    assert calendar_coverage()[1] < 2099
    # Wednesday 30 September 2099: National Day would be a holiday, but no notice exists, so
    # Thursday 1 and Friday 2 October count, and Monday 5 October is day 3.
    deadline = add_working_days(date(2099, 9, 30), 3)
    assert deadline.due_date == date(2099, 10, 5)
    assert deadline.estimated is True
    assert is_working_day(date(2099, 10, 1))
    assert not is_working_day(date(2099, 10, 3))  # Saturday


def test_span_running_past_the_last_covered_year_is_estimated() -> None:
    last = calendar_coverage()[1]
    deadline = add_working_days(date(last, 12, 31), 1)
    assert deadline.due_date.year == last + 1
    assert deadline.due_date.weekday() < 5
    assert deadline.estimated is True


def test_working_days_between_counts_after_start_up_to_and_including_end() -> None:
    assert working_days_between(date(2025, 9, 30), date(2025, 10, 9)) == 1
    assert working_days_between(date(2025, 9, 26), date(2025, 10, 13)) == 7
    assert working_days_between(date(2025, 11, 14), date(2025, 11, 15)) == 0
    assert working_days_between(date(2025, 11, 14), date(2025, 11, 14)) == 0


def test_working_days_between_is_negative_when_end_is_before_start() -> None:
    assert working_days_between(date(2025, 10, 13), date(2025, 9, 26)) == -7


def test_overdue_by_working_days_after_national_day() -> None:
    deadline = add_working_days(FRIDAY_EVENING_BEFORE_NATIONAL_DAY, 5)  # due Friday 10 October
    # Saturday 11 October is a swapped working day, Sunday 12 is not, Monday 13 is.
    assert working_days_between(deadline.due_date, date(2025, 10, 13)) == 2


@pytest.mark.parametrize("start", [date(2025, 9, 26), date(2026, 2, 11), date(2025, 12, 30)])
def test_working_days_between_undoes_add_working_days(start: date) -> None:
    for n in range(1, 25):
        assert working_days_between(start, add_working_days(start, n).due_date) == n


def test_datetimes_are_refused_where_a_date_in_china_is_meant() -> None:
    with pytest.raises(TypeError):
        is_working_day(datetime(2025, 9, 27, 16, 0, tzinfo=UTC))
    with pytest.raises(TypeError):
        working_days_between(datetime(2025, 9, 27, tzinfo=UTC), date(2025, 10, 9))


def test_deadline_is_immutable() -> None:
    deadline = add_working_days(date(2025, 9, 25), 1)
    assert isinstance(deadline, Deadline)
    with pytest.raises(dataclasses.FrozenInstanceError):
        deadline.due_date = date(2025, 12, 31)  # type: ignore[misc]
