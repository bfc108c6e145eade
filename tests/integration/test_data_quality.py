"""Data quality of a resource read back after real loads (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from govshare.core.types import utcnow
from govshare.data import quality
from govshare.data.quality import FreshnessStatus
from tests.factories import publish
from tests.integration.test_data_load import load, people, pid


@pytest.fixture
def population(session, city):
    return publish(session, city, city.police_officer)


def figures(summary_or_batch):
    return {i.item_name: (i.total, i.completeness, i.validity) for i in summary_or_batch.items}


def test_resource_never_loaded_has_no_figures(session, city, population):
    summary = quality.resource_data_summary(session, population)
    assert summary.record_count == 0 and summary.last_batch is None and summary.latest is None
    assert summary.trend == [] and summary.freshness.status == FreshnessStatus.NEVER_LOADED


def test_summary_after_two_loads_gives_latest_quality_and_trend(session, city, population):
    first = load(
        session, city, population,
        people((pid(1), "张三", "1980-01-02"), (pid(2), "", "1980-01-03"), (pid(3), "王五", "1980-13-01")),
        "q1",
    )  # fmt: skip
    second = load(
        session, city, population,
        people((pid(4), "赵六", "1980-01-05"), (pid(4), "赵六", "1980-01-05"), (pid(5), "钱七", "1980-01-06"),
               (pid(6), "孙八", "1980-01-07")),
        "q2",
    )  # fmt: skip
    summary = quality.resource_data_summary(session, population)

    assert summary.record_count == first.inserted + second.inserted == 2 + 3
    assert summary.last_batch is not None and summary.last_batch.id == second.batch_id
    assert [f.batch.id for f in summary.trend] == [first.batch_id, second.batch_id]
    old, latest = summary.trend
    assert summary.latest is latest
    assert figures(old) == {
        "公民身份号码": (3, 1.0, 1.0),
        "姓名": (3, pytest.approx(2 / 3), 1.0),
        "出生日期": (3, 1.0, pytest.approx(2 / 3)),
    }
    assert old.key_uniqueness == 1.0
    assert latest.key_uniqueness == pytest.approx(1 - 1 / 4)
    assert figures(latest)["姓名"] == (4, 1.0, 1.0)
    assert old.completeness == pytest.approx(8 / 9) and old.validity == pytest.approx(7 / 8)


def test_freshness_follows_the_last_applied_load(session, city, population):
    load(session, city, population, people((pid(1), "张三", "1980-01-02")), "f1")
    now = quality.resource_data_summary(session, population).freshness
    assert now.status == FreshnessStatus.ON_TIME  # daily: due two days after the load
    later = quality.resource_data_summary(session, population, utcnow() + timedelta(days=3))
    assert later.freshness.status == FreshnessStatus.STALE
    assert later.freshness.due_by == now.due_by


def test_strict_refusal_does_not_count_as_a_load(session, city, population):
    load(session, city, population, people((pid(1), "张三", "1980-01-02")), "ok")
    load(session, city, population, people((pid(2), "李四", "bad")), "refused", strict=True)
    summary = quality.resource_data_summary(session, population)
    assert len(summary.trend) == 1 and summary.record_count == 1


def test_trend_keeps_the_last_ten_loads(session, city, population):
    for n in range(12):
        load(session, city, population, people((pid(n), "张三", "1980-01-02")), f"t{n}")
    summary = quality.resource_data_summary(session, population)
    assert len(summary.trend) == quality.TREND_LOADS
    assert summary.trend[-1].batch.batch_key == "t11" and summary.trend[0].batch.batch_key == "t2"
