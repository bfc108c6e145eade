"""The demo city's records: the synthetic people, companies and houses loaded into the base libraries
through the platform's own load (`govshare.data.service.load`, as `govshare data load` does), so the
batches, versions, change log and quality figures are real.

Each batch's key is the hash of its rows (`rows_key`, as the data API computes it), so loading the
same city again is a no-op; the second population batch updates some people, which gives their record
history pages an earlier version to show.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.auth.models import User
from govshare.catalog.models import Resource, ResourceStatus
from govshare.data import service as data
from govshare.data.ingest import LoadReport
from govshare.data.models import LoadMode
from govshare.demo.synthetic import City, Row

POPULATION = "人口基础信息"
LEGAL_ENTITIES = "法人单位基础信息"
HOUSING = "房屋基础信息"
SOCIAL_INSURANCE = "社会保险参保缴费信息"


@dataclass(frozen=True)
class Loaded:
    resource: str
    source: str
    report: LoadReport


def published(session: Session, name: str) -> Resource | None:
    """The demo catalog's published resource of this name (None if someone retired or renamed it)."""
    return session.scalar(
        select(Resource)
        .where(Resource.name == name, Resource.status == ResourceStatus.PUBLISHED)
        .order_by(Resource.id)
        .limit(1)
    )


def batches(city: City) -> list[tuple[str, str, str, list[Row]]]:
    """(resource, loading officer, source name, rows) in load order: the updates come last."""
    return [
        (POPULATION, "police_officer", "演示城市合成数据：人口", [p.row() for p in city.people]),
        (LEGAL_ENTITIES, "market_officer", "演示城市合成数据：法人单位", [c.row() for c in city.companies]),
        (HOUSING, "housing_officer", "演示城市合成数据：房屋", city.houses),
        (SOCIAL_INSURANCE, "hrss_officer", "演示城市合成数据：社保参保", city.insured),
        (
            POPULATION,
            "police_officer",
            "演示城市合成数据：人口（迁居、换号更新）",
            [p.row() for p in city.moved],
        ),
    ]


def load_records(session: Session, users: dict[str, User], city: City) -> list[Loaded]:
    """Load every batch of ``city`` whose resource is published; repeated batches change nothing."""
    loaded = []
    for name, officer, source, rows in batches(city):
        resource = published(session, name)
        if resource is None or not rows:
            continue
        # A demo database made before an item was added to the demo catalog keeps its older items.
        items = {i.name for i in resource.items}
        columns = [c for c in rows[0] if c in items]
        kept = [{c: row[c] for c in columns} for row in rows]
        report = data.load(
            session, users[officer], resource.code, columns, enumerate(kept, start=1),
            batch_key=data.rows_key(kept, LoadMode.UPSERT), source_name=source,
        )  # fmt: skip
        loaded.append(Loaded(name, source, report))
    return loaded


def summary(loaded: list[Loaded]) -> str:
    """One line per batch: what it stored (or that it was already there)."""
    lines = []
    for batch in loaded:
        r = batch.report
        done = (
            "already loaded"
            if r.already_applied
            else f"inserted {r.inserted:,} · updated {r.updated:,} · rejected {r.rejected:,}"
        )
        lines.append(f"  {batch.source}: {r.rows_read:,} rows, {done}")
    return "\n".join(lines)
