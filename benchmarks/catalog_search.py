"""Benchmark: catalog search over 10,000 generated resources (~100,000 items) on SQLite and PostgreSQL.

Loads a deterministic catalog (benchmarks/catalog_generator.py) straight through the models, with
the same inverted index the service builds (``search.resource_terms`` → ``SearchTerm``), then runs a
mix of queries many times through ``govshare.catalog.search.search`` — the function behind the API —
and, as the baseline measured in the same run, a naive ``LIKE '%q%'`` scan over name and summary
with the same filters, paging and loading. Prints a markdown table of p50/p95/p99 in milliseconds.

    .venv/bin/python benchmarks/catalog_search.py [--resources 10000] [--backends sqlite,postgresql] [--repeat 50]

PostgreSQL: database ``govshare_bench`` on --postgres-url's server (created if missing, emptied first).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, insert, or_, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.catalog_generator import Catalog, generate  # noqa: E402
from govshare.auth.models import Department  # noqa: E402
from govshare.catalog import search  # noqa: E402
from govshare.catalog.models import CodeSequence, Item, Resource, SearchTerm  # noqa: E402
from govshare.core.db import make_engine, make_session_factory  # noqa: E402
from govshare.core.migrate import upgrade  # noqa: E402

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/govshare_bench"
F = search.Filters
# (class, query, filters): what people type into the catalog search box, and what they filter by.
QUERIES: list[tuple[str, str, search.Filters]] = [
    ("two characters", "人口", F()),
    ("two characters", "社保", F()),
    ("two characters", "房屋", F()),
    ("two characters", "企业", F()),
    ("four characters", "营业执照", F()),
    ("four characters", "养老保险", F()),
    ("four characters", "房屋租赁", F()),
    ("three characters", "许可证", F()),
    ("one character", "证", F()),
    ("phrase", "南山区 房屋 登记信息", F()),
    ("filtered", "人口", F(classification="1")),
    ("filtered", "许可证", F(sharing_type="conditional", update_cycle="daily")),
    ("filtered", "房屋", F(open_to_public=True)),
    ("miss", "火星探测", F()),
]


@dataclass
class Timing:
    cls: str
    query: str
    hits: int
    seconds: list[float]


def postgres_engine(url: str) -> Engine:
    """An empty, migrated ``govshare_bench`` (created on first use)."""
    target = make_url(url)
    admin = make_engine(
        target.set(database="postgres").render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}):
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    return engine


def load(engine: Engine, catalog: Catalog) -> dict[str, float]:
    """Insert departments, resources, items and their search terms; returns counts and seconds."""
    started = time.perf_counter()
    names = {r["id"]: [] for r in catalog.resources}
    for item in catalog.items:
        names[item["resource_id"]].append(item["name"])
    terms = 0
    with Session(engine) as session:
        session.execute(insert(Department), catalog.departments)
        for chunk in _chunks(catalog.resources, 2000):
            session.execute(insert(Resource), chunk)
            rows = [
                {"term": term, "resource_id": r["id"], "weight": weight}
                for r in chunk
                for term, weight in search.resource_terms(r["name"], r["summary"], names[r["id"]]).items()
            ]
            terms += len(rows)
            session.execute(insert(SearchTerm), rows)
        for chunk in _chunks(catalog.items, 20000):
            session.execute(insert(Item), chunk)
        last: dict[str, int] = {}
        for r in catalog.resources:
            prefix, number = str(r["code"]).split("/")
            last[prefix] = max(last.get(prefix, 0), int(number))
        session.execute(insert(CodeSequence), [{"prefix": p, "last_value": n} for p, n in last.items()])
        session.commit()
    # Statistics, and on PostgreSQL the visibility map for index-only scans: the steady state that
    # autovacuum reaches after a bulk load (SQLite has no autovacuum; ANALYZE is what it gets).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    if engine.dialect.name == "postgresql":
        _reset_sequences(engine)
    return {"terms": terms, "load_seconds": time.perf_counter() - started}


def _reset_sequences(engine: Engine) -> None:
    # Ids were given explicitly; later inserts through the service must not collide with them.
    with engine.begin() as conn:
        for table in ("department", "catalog_resource", "catalog_item"):
            conn.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )


def _chunks(rows: list, size: int) -> Iterator[list]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def like_search(
    session: Session, query: str, filters: search.Filters, page_size: int = 20
) -> tuple[int, list]:
    """The naive baseline: ``LIKE '%q%'`` over name and summary, same filters, count, page and loading."""
    pattern = query.strip()
    match = or_(
        Resource.name.contains(pattern, autoescape=True), Resource.summary.contains(pattern, autoescape=True)
    )
    # search._apply_filters is the index search's own filter code: both sides filter identically.
    total = session.scalar(
        select(func.count()).select_from(
            search._apply_filters(select(Resource.id).where(match), filters).subquery()
        )
    )
    rows = session.scalars(
        search._apply_filters(select(Resource).where(match), filters).order_by(Resource.code).limit(page_size)
    ).all()
    return total or 0, list(rows)


def measure(
    session: Session, runners: list[Callable[[str, search.Filters], int]], repeat: int
) -> list[list[Timing]]:
    """Time each runner on every query; runs alternate so both see the same machine load."""
    timings: list[list[Timing]] = [[] for _ in runners]
    for cls, query, filters in QUERIES:
        hits = [run(query, filters) for run in runners]  # warm-up: plans cached, pages in memory
        session.expunge_all()
        seconds: list[list[float]] = [[] for _ in runners]
        for _ in range(repeat):
            for run, out in zip(runners, seconds, strict=True):
                started = time.perf_counter()
                run(query, filters)
                out.append(time.perf_counter() - started)
                session.expunge_all()  # every call loads fresh objects, like a new API request
        for n, out in enumerate(seconds):
            timings[n].append(Timing(cls, query, hits[n], out))
    return timings


def percentiles(seconds: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000


@contextmanager
def backend(name: str, postgres_url: str) -> Iterator[Engine]:
    if name == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{tmp}/bench.db")
            yield engine
            engine.dispose()
    else:
        engine = postgres_engine(postgres_url)
        yield engine
        engine.dispose()


def run_backend(
    name: str, args: argparse.Namespace
) -> tuple[str, dict[str, float], list[Timing], list[Timing]]:
    with backend(name, args.postgres_url) as engine:
        upgrade(engine)
        info = load(engine, generate(args.resources, args.items, args.seed))
        # The generated rows are garbage now; without them the collector has no 100,000 dicts to
        # walk during the timed runs (those pauses are the benchmark's, not the search's).
        gc.collect()
        with engine.connect() as conn:
            version = conn.exec_driver_sql(
                "SELECT sqlite_version()" if name == "sqlite" else "SHOW server_version"
            ).scalar()
        session = make_session_factory(engine)()
        load_before = os.getloadavg()[0]
        indexed, naive = measure(
            session,
            [
                lambda q, f: search.search(session, q, f, 1, 20).total,
                lambda q, f: like_search(session, q, f)[0],
            ],
            args.repeat,
        )
        session.close()
        info["load_average"] = (load_before + os.getloadavg()[0]) / 2
    return f"{name} {version}", info, indexed, naive


def report(label: str, info: dict[str, float], indexed: list[Timing], naive: list[Timing]) -> str:
    lines = [
        f"### {label}",
        "",
        f"Loaded in {info['load_seconds']:.1f} s; {int(info['terms']):,} index rows; "
        f"1-minute load average during the runs ≈ {info['load_average']:.1f}.",
        "",
        "| query class | query | hits (index / LIKE) | index p50 | p95 | p99 | LIKE p50 | p95 | speedup (p50) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for a, b in zip(indexed, naive, strict=True):
        ia, na = percentiles(a.seconds), percentiles(b.seconds)
        lines.append(
            f"| {a.cls} | {a.query} | {a.hits} / {b.hits} | {ia[0]:.1f} | {ia[1]:.1f} | {ia[2]:.1f} "
            f"| {na[0]:.1f} | {na[1]:.1f} | {na[0] / ia[0]:.1f}× |"
        )
    lines += [
        "",
        "| query class | index p50 | p95 | p99 | LIKE p50 | p95 | p99 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    classes = list(dict.fromkeys(t.cls for t in indexed)) + ["**all queries**"]
    for cls in classes:
        pick = (lambda t: True) if cls.startswith("**") else (lambda t, c=cls: t.cls == c)
        ia = percentiles([s for t in indexed if pick(t) for s in t.seconds])
        na = percentiles([s for t in naive if pick(t) for s in t.seconds])
        lines.append(
            f"| {cls} | {ia[0]:.1f} | {ia[1]:.1f} | {ia[2]:.1f} | {na[0]:.1f} | {na[1]:.1f} | {na[2]:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=10_000, help="resources to generate (default 10000)")
    parser.add_argument("--items", type=int, default=10, help="items per resource, on average (default 10)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--repeat", type=int, default=50, help="timed runs of each query (default 50)")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help=f"default {POSTGRES_URL}")
    parser.add_argument("--seed", type=int, default=20160801)
    args = parser.parse_args()
    catalog = generate(args.resources, args.items, args.seed)
    print(f"# Catalog search: {len(catalog.resources):,} resources, {len(catalog.items):,} items, "
          f"{args.repeat} runs per query, Python {platform.python_version()}\n")  # fmt: skip
    del catalog
    for name in args.backends.split(","):
        print(report(*run_backend(name.strip(), args)) + "\n", flush=True)


if __name__ == "__main__":
    main()
