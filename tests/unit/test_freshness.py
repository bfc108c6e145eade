"""Freshness (及时性): from a resource's update cycle and its last successful load."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from govshare.catalog import vocab
from govshare.data.quality import ALLOWED_AGE, Freshness, FreshnessStatus, freshness

LOADED = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)

ALLOWANCES = [
    ("realtime", 1),
    ("daily", 2),
    ("weekly", 8),
    ("monthly", 32),
    ("quarterly", 95),
    ("semiannual", 185),
    ("yearly", 370),
]


def test_every_update_cycle_of_the_catalog_has_an_allowed_age():
    assert set(ALLOWED_AGE) == set(vocab.UPDATE_CYCLES)


@pytest.mark.parametrize(("cycle", "days"), ALLOWANCES)
def test_on_time_up_to_and_including_the_allowed_age(cycle, days):
    due = LOADED + timedelta(days=days)
    assert freshness(cycle, LOADED, due) == Freshness(FreshnessStatus.ON_TIME, due)
    assert freshness(cycle, LOADED, LOADED).status == FreshnessStatus.ON_TIME


@pytest.mark.parametrize(("cycle", "days"), ALLOWANCES)
def test_stale_one_second_after_the_allowed_age_with_how_long_overdue(cycle, days):
    due = LOADED + timedelta(days=days)
    result = freshness(cycle, LOADED, due + timedelta(seconds=1))
    assert result == Freshness(FreshnessStatus.STALE, due, timedelta(seconds=1))


def test_daily_resource_loaded_three_days_ago_is_one_day_overdue():
    result = freshness("daily", LOADED, LOADED + timedelta(days=3))
    assert (result.status, result.overdue_by) == (FreshnessStatus.STALE, timedelta(days=1))


def test_irregular_resource_is_never_stale_and_owes_no_date():
    result = freshness("irregular", LOADED, LOADED + timedelta(days=3650))
    assert result == Freshness(FreshnessStatus.ON_TIME, None, timedelta(0))


@pytest.mark.parametrize("cycle", [*vocab.UPDATE_CYCLES])
def test_never_loaded_whatever_the_cycle(cycle):
    assert freshness(cycle, None, LOADED).status == FreshnessStatus.NEVER_LOADED
