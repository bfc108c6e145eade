"""Benchmark: key lookup latency in ``data_record`` at 100k, 1M and 10M records (issue 3).

For each backend, one database (migrated, demo catalog loaded: benchmarks/data_load.py's ``prepare``)
grows step by step to each --sizes count of records of 101/000001 (人口基础信息). The records are the
rows of benchmarks/data_load.py's ``write_population`` (valid resident IDs as keys, the 7 items as
the loader's canonical JSON) but every 10th row, whose IDs are the absent keys. They are written
with bulk SQL, as the fill is not what is measured: sqlite3 ``executemany`` in transactions of 1M
rows, PostgreSQL ``COPY``. Before the first step, the first 300,000 IDs of the file go into a
second resource (社会保险参保缴费信息), so the same key exists under two resources and a lookup
needs the whole (resource_id, record_key) unique index. Each step ends with ANALYZE (PostgreSQL:
VACUUM ANALYZE).

At each step, after a warm-up of 10,000 other existing keys, --lookups keys (90% drawn at random
from the records present, 10% absent IDs from among them) are each looked up

* through ``govshare.data.service.get_record`` (a SQLAlchemy session query, the path of the API; the
  session is emptied after each call, outside the timing),
* as the same SELECT on the raw driver (sqlite3 / psycopg with a server-side prepared statement), and
* (the baseline of the same run) the raw driver's lookup of a row of the 15-row catalog_resource
  table: what a query costs at that moment on this machine, whatever the size of data_record;

in rotating order, so all three see the same machine. Latency is wall time in this process, in µs.
The database was just written; the share of its table and index files in the OS page cache just
before the lookups is printed. A second pass looks the same keys up again (every page on their paths
read moments before). With --sqlite-cache-mb, a third pass on SQLite uses that page cache instead of
SQLite's default 2 MB. For contrast, at sizes up to --scan-max, a lookup that cannot use the index
(by 联系电话 inside the JSON) shows what linear growth looks like.

    .venv/bin/python benchmarks/key_lookup.py [--sizes 100000,1000000,10000000]
        [--backends sqlite,postgresql] [--lookups 2000] [--sqlite-cache-mb 64] [--keep]

PostgreSQL: database ``govshare_bench_lookup`` on --postgres-url's server (created if missing,
emptied first, dropped at the end unless --keep). SQLite: a file in a temporary directory (kept
and named with --keep). Sizes must be at least 12,000 (warm-up and lookup keys).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from benchmarks.data_load import COLUMNS, RESOURCE, prepare, write_population  # noqa: E402
from govshare.catalog.models import Resource  # noqa: E402
from govshare.core.db import make_engine  # noqa: E402
from govshare.core.errors import NotFound  # noqa: E402
from govshare.data import service  # noqa: E402
from govshare.data.ingest import canonical  # noqa: E402
from govshare.data.models import Batch, BatchStatus, LoadMode  # noqa: E402

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/govshare_bench_lookup"
SECOND = "社会保险参保缴费信息"
SECOND_ROWS = 300_000
WARMUP = 10_000  # enough for every page above the leaves to be read once (10M records)
SCAN_REPEAT = 5
# Every GAP-th generated person is not loaded: valid absent IDs spread over the key range (the
# generator's IDs are dense, so an absent ID made up otherwise would sort at the edge of the index).
GAP = 10
VALID_FROM = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
INDEX = "uq_data_record_resource_key"
SELECT_RECORD = (
    "SELECT id, resource_id, record_key, data, version, batch_id, valid_from FROM data_record "
    "WHERE resource_id = {p} AND record_key = {p}"
)
# The same driver's round trip to a 15-row table, timed next to each lookup: what the machine's load
# does to a query at that moment, whatever the size of data_record.
TINY = "SELECT id, code, name FROM catalog_resource WHERE id = {p}"
RATIOS = ("orm_hit", "raw_hit", "excess")  # p50s given as a ratio to the first size's
HEADER = [
    "backend", "records", "table rows", "fill s", "DB MB", "index MB", "B-tree depth",
    "ORM p50 µs", "p95", "p99", "raw p50 µs", "p95", "p99", "miss ORM p50", "miss raw p50",
    "tiny p50", "raw − tiny p50", "ORM ÷ first", "raw ÷ first", "raw − tiny ÷ first",
    "JSON scan p50 ms", "in OS cache", "load 1m",
]  # fmt: skip
SCAN = {
    "sqlite": "SELECT id FROM data_record WHERE resource_id = ? AND json_extract(data, '$.联系电话') = ?",
    "postgresql": "SELECT id FROM data_record WHERE resource_id = %s AND data::json ->> '联系电话' = %s",
}


@dataclass
class Database:
    backend: str
    url: str
    resource_id: int = 0
    second_id: int = 0
    batch_id: int = 0
    second_batch_id: int = 0
    records: int = 0

    @property
    def path(self) -> str:
        return make_url(self.url).database or ""

    def dsn(self) -> str:
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)


def setup(db: Database) -> None:
    """Migrated, demo catalog, one applied batch per resource; the second resource filled."""
    prepare(db.backend, db.url)
    engine = make_engine(db.url)
    with Session(engine) as session:
        ids = []
        for resource in (
            session.scalar(select(Resource).where(Resource.code == RESOURCE)),
            session.scalar(select(Resource).where(Resource.name == SECOND)),
        ):
            assert resource is not None
            batch = Batch(
                resource_id=resource.id, batch_key=f"bench:{resource.code}", mode=LoadMode.UPSERT,
                status=BatchStatus.APPLIED, source_name="key_lookup.py", department_id=resource.provider_id,
                started_at=VALID_FROM, finished_at=VALID_FROM,
            )  # fmt: skip
            session.add(batch)
            session.flush()
            ids += [resource.id, batch.id]
        session.commit()
    engine.dispose()
    db.resource_id, db.batch_id, db.second_id, db.second_batch_id = ids
    if db.backend == "postgresql":
        with _pg(db, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")


def _pg(db: Database, autocommit: bool = False) -> Any:
    import psycopg

    return psycopg.connect(db.dsn(), autocommit=autocommit)


def _sqlite(db: Database) -> Any:
    import sqlite3

    conn = sqlite3.connect(db.path, isolation_level=None)
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


# --- fill (not measured) --------------------------------------------------------------------------


def population(path: Path, skip_gaps: bool = True) -> Iterator[tuple[str, str]]:
    """(key, canonical JSON) of the population file's rows in order, but every GAP-th (absent keys)."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        for n, values in enumerate(reader):
            if not (skip_gaps and n % GAP == GAP - 1):
                yield values[0], canonical(dict(zip(COLUMNS, values, strict=True)))


def file_row(record: int) -> int:
    """The file row of the ``record``-th loaded record (GAP - 1 of every GAP rows are loaded)."""
    return record // (GAP - 1) * GAP + record % (GAP - 1)


def second_rows(source: Iterator[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    rng = random.Random(203)
    for n, (key, _data) in enumerate(source):
        if n == SECOND_ROWS:
            return
        values = {"公民身份号码": key, "参保险种": rng.choice(["养老保险", "医疗保险", "失业保险"]),
                  "参保状态": rng.choice(["正常参保", "暂停缴费", "终止参保"]),
                  "累计缴费月数": str(rng.randrange(1, 480)), "缴费基数": f"{rng.randrange(2360, 36000)}.00"}  # fmt: skip
        yield key, canonical(values)


def fill(db: Database, resource_id: int, batch_id: int, rows: Iterator[tuple[str, str]]) -> int:
    """Append ``rows`` to data_record; ANALYZE. Returns the number of rows written."""
    count = 0
    if db.backend == "sqlite":
        stamp = VALID_FROM.strftime("%Y-%m-%d %H:%M:%S.%f")
        conn = _sqlite(db)
        conn.execute("PRAGMA cache_size=-1048576")  # 1 GB for the fill only
        sql = "INSERT INTO data_record (resource_id, record_key, data, version, batch_id, valid_from) VALUES (?, ?, ?, 1, ?, ?)"
        while True:
            chunk = [(resource_id, key, data, batch_id, stamp) for key, data in _take(rows, 1_000_000)]
            if not chunk:
                break
            conn.execute("BEGIN")
            conn.executemany(sql, chunk)
            conn.execute("COMMIT")
            count += len(chunk)
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        return count
    with _pg(db) as conn:
        copy_sql = (
            "COPY data_record (resource_id, record_key, data, version, batch_id, valid_from) FROM STDIN"
        )
        prefix, suffix = f"{resource_id}\t", f"\t1\t{batch_id}\t{VALID_FROM.isoformat()}\n"
        with conn.cursor() as cur, cur.copy(copy_sql) as copy:
            while True:
                chunk = _take(rows, 20_000)
                if not chunk:
                    break
                copy.write("".join(prefix + key + "\t" + _copy_text(data) + suffix for key, data in chunk))
                count += len(chunk)
        conn.commit()
    with _pg(db, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE data_record")
    return count


def _take(rows: Iterator[tuple[str, str]], n: int) -> list[tuple[str, str]]:
    out = []
    for row in rows:
        out.append(row)
        if len(out) == n:
            break
    return out


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# --- facts about the database -----------------------------------------------------------------------


def facts(db: Database) -> dict[str, Any]:
    """Database size, index size and depth, the query plan of the lookup."""
    if db.backend == "sqlite":
        conn = _sqlite(db)
        index = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'data_record' AND name LIKE 'sqlite_autoindex%'"
        ).fetchone()[0]
        depth = "SELECT max(length(path)), count(*) FROM dbstat WHERE name = ?"  # path: /000/01a/…
        paths, pages = conn.execute(depth, (index,)).fetchone()
        table_paths, _ = conn.execute(depth, ("data_record",)).fetchone()
        plan = conn.execute(
            "EXPLAIN QUERY PLAN " + SELECT_RECORD.format(p="?"), (db.resource_id, "x")
        ).fetchall()
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.close()
        size = sum(Path(db.path + s).stat().st_size for s in ("", "-wal") if Path(db.path + s).exists())
        return {
            "db_mb": size / 1e6,
            "index_mb": pages * page_size / 1e6,
            "depth": f"{(paths - 1) // 4 + 1} + {(table_paths - 1) // 4 + 1}",  # index, then rowid table
            "plan": " / ".join(row[-1] for row in plan),
        }
    with _pg(db) as conn:
        level = conn.execute(f"SELECT level FROM bt_metap('{INDEX}')").fetchone()[0]
        db_bytes, index_bytes = conn.execute(
            f"SELECT pg_database_size(current_database()), pg_relation_size('{INDEX}')"
        ).fetchone()
        plan = conn.execute("EXPLAIN " + SELECT_RECORD.format(p="%s"), (db.resource_id, "x")).fetchall()
    return {
        "db_mb": db_bytes / 1e6,
        "index_mb": index_bytes / 1e6,
        "depth": f"{level + 1} + heap",
        "plan": " / ".join(row[0].strip() for row in plan),
    }


def os_cached(db: Database) -> float:
    """Share of the table's and index's files in the OS page cache (fincore) before the lookups."""
    if db.backend == "sqlite":
        files = [db.path]
    else:
        with _pg(db) as conn:
            home = conn.execute("SHOW data_directory").fetchone()[0]
            rels = conn.execute(
                f"SELECT pg_relation_filepath('data_record'), pg_relation_filepath('{INDEX}')"
            ).fetchone()
        files = [str(f) for rel in rels for f in Path(home).glob(rel + "*")]
    out = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES,SIZE", *files],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    pairs = [tuple(map(int, line.split())) for line in out.stdout.splitlines()]
    return sum(r for r, _ in pairs) / sum(s for _, s in pairs)


# --- measurement ------------------------------------------------------------------------------------


def percentiles(values: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[94], q[98]


def lookups(
    db: Database, present: list[str], absent: list[str], warm: list[str], cache_mb: int = 0
) -> dict[str, Any]:
    """ORM, raw and baseline lookups, rotating; µs per lookup, hits and misses apart.

    ``cache_mb``: SQLite page cache of both connections (0: SQLite's default, 2 MB, as the app runs).
    """
    engine = make_engine(db.url)
    pragma = f"PRAGMA cache_size=-{cache_mb * 1024}"
    if cache_mb:
        event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute(pragma))
    session = Session(engine)
    resource = session.get(Resource, db.resource_id)
    assert resource is not None
    if db.backend == "sqlite":
        conn = _sqlite(db)
        if cache_mb:
            conn.execute(pragma)
        sql = SELECT_RECORD.format(p="?")

        def raw(key: str) -> Any:
            return conn.execute(sql, (db.resource_id, key)).fetchone()

        def tiny(key: str) -> Any:
            return conn.execute(TINY.format(p="?"), (db.resource_id,)).fetchone()
    else:
        conn = _pg(db)
        sql = SELECT_RECORD.format(p="%s")
        cur = conn.cursor()

        def raw(key: str) -> Any:
            cur.execute(sql, (db.resource_id, key), prepare=True)
            return cur.fetchone()

        def tiny(key: str) -> Any:
            cur.execute(TINY.format(p="%s"), (db.resource_id,), prepare=True)
            return cur.fetchone()

    def orm(key: str) -> Any:
        try:
            return service.get_record(session, resource, key)
        except NotFound:
            return None

    for key in warm:
        assert orm(key) is not None and raw(key) is not None and tiny(key) is not None
        session.expunge_all()
    keys = [(k, True) for k in present] + [(k, False) for k in absent]
    random.Random(len(keys)).shuffle(keys)
    times: dict[str, list[float]] = {"orm_hit": [], "raw_hit": [], "orm_miss": [], "raw_miss": [], "tiny": []}
    excess, loads = [], []
    calls = [("orm", orm), ("raw", raw), ("tiny", tiny)]
    for n, (key, hit) in enumerate(keys):
        took = {}
        for name, call in calls[n % 3 :] + calls[: n % 3]:  # rotate the order
            started = time.perf_counter_ns()
            found = call(key)
            took[name] = (time.perf_counter_ns() - started) / 1000
            session.expunge_all()
            assert (found is not None) == (hit or name == "tiny"), (name, key)
        times["tiny"].append(took["tiny"])
        for name in ("orm", "raw"):
            times[f"{name}_{'hit' if hit else 'miss'}"].append(took[name])
        if hit:
            excess.append(took["raw"] - took["tiny"])
        if n % 200 == 0:
            loads.append(os.getloadavg()[0])
    session.close()
    engine.dispose()
    conn.close()
    result: dict[str, Any] = {name: percentiles(values) for name, values in times.items()}
    result["excess"] = percentiles(excess)
    result["load"] = statistics.mean(loads)
    return result


def scan(db: Database, phones: list[str]) -> float:
    """Median ms of a lookup by 联系电话 inside the JSON: no index, every record read."""
    conn = _sqlite(db) if db.backend == "sqlite" else _pg(db)
    seconds = []
    for phone in phones[:SCAN_REPEAT]:
        started = time.perf_counter()
        assert conn.execute(SCAN[db.backend], (db.resource_id, phone)).fetchall()
        seconds.append(time.perf_counter() - started)
    conn.close()
    return statistics.median(seconds) * 1000


# --- driver -----------------------------------------------------------------------------------------


Picks = tuple[list[str], list[str], list[str]]  # present keys, their 联系电话, absent keys


def sample(path: Path, sizes: list[int], present: int, absent: int) -> dict[int, Picks]:
    """For each size: ``present`` random records among the first ``size``, ``absent`` keys among them."""
    rng = random.Random(3)
    wanted: dict[int, tuple[list[int], list[int]]] = {}
    for size in sizes:
        records = [file_row(r) for r in rng.sample(range(size), present)]
        gaps = [g * GAP + GAP - 1 for g in rng.sample(range(file_row(size) // GAP), absent)]
        wanted[size] = records, gaps
    every = {n for pair in wanted.values() for rows in pair for n in rows}
    last = max(every)
    found: dict[int, list[str]] = {}
    phone = COLUMNS.index("联系电话")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        for n, values in enumerate(reader):
            if n in every:
                found[n] = [values[0], values[phone]]
            if n >= last:
                break
    return {
        size: ([found[n][0] for n in records], [found[n][1] for n in records], [found[n][0] for n in gaps])
        for size, (records, gaps) in wanted.items()
    }


def run(db: Database, path: Path, sizes: list[int], picks: dict[int, Picks], args: Any) -> None:
    started = time.perf_counter()
    setup(db)
    rows = population(path)
    second = fill(db, db.second_id, db.second_batch_id, second_rows(population(path, skip_gaps=False)))
    print(
        f"# {db.backend}: setup + {second:,} rows of {SECOND} in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    bases: dict[str, dict[str, float]] = {}
    # (label, SQLite page cache MB, warm-up keys): the second pass looks the same keys up again, so
    # every page on their paths was read moments before.
    passes = [(db.backend, 0, True), (f"{db.backend}, same keys again", 0, False)]
    if db.backend == "sqlite" and args.sqlite_cache_mb:
        passes.append((f"sqlite, {args.sqlite_cache_mb} MB page cache", args.sqlite_cache_mb, True))
    for size in sizes:
        started = time.perf_counter()
        added = fill(db, db.resource_id, db.batch_id, itertools.islice(rows, size - db.records))
        db.records += added
        assert db.records == size, (db.records, size)
        fill_s = time.perf_counter() - started
        info = facts(db)
        print(f"# {db.backend} {size:,}: plan: {info['plan']}", flush=True)
        keys, phones, absent = picks[size]
        scan_ms = scan(db, phones) if size <= args.scan_max else None
        resident = os_cached(db)
        for label, cache_mb, warm in passes:
            warm_up = keys[:WARMUP] if warm else keys[WARMUP : WARMUP + 50]  # again: connect, prepare
            result = lookups(db, keys[WARMUP:], absent, warm_up, cache_mb)
            base = bases.setdefault(label, {name: result[name][0] for name in RATIOS})
            cells = [
                label, f"{size:,}", f"{size + SECOND_ROWS:,}", f"{fill_s:.0f}", f"{info['db_mb']:,.0f}",
                f"{info['index_mb']:,.0f}", str(info["depth"]),
                *(f"{v:.0f}" for v in result["orm_hit"] + result["raw_hit"]),
                *(f"{result[name][0]:.0f}" for name in ("orm_miss", "raw_miss", "tiny", "excess")),
                *(f"{result[name][0] / base[name]:.2f}×" for name in RATIOS),
                "—" if scan_ms is None else f"{scan_ms:,.0f}", f"{resident:.0%}", f"{result['load']:.1f}",
            ]  # fmt: skip
            print("| " + " | ".join(cells) + " |", flush=True)


def drop_postgres(url: str) -> None:
    target = make_url(url)
    admin = make_engine(
        target.set(database="postgres").render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}"'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000,10000000", help="records of 101/000001, growing")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--lookups", type=int, default=2000, help="timed lookups per size (10%% absent keys)")
    parser.add_argument(
        "--scan-max", type=int, default=1_000_000, help="largest size for the full-scan contrast"
    )
    parser.add_argument(
        "--sqlite-cache-mb", type=int, default=0, help="SQLite: also measure with this page cache (0: no)"
    )
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help=f"default {POSTGRES_URL}")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    print(
        f"# {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; sizes={sizes}; "
        f"lookups={args.lookups} (+{WARMUP} warm-up)"
    )
    tmp = tempfile.mkdtemp(prefix="govshare-key-lookup-")
    path = Path(tmp) / "population.csv"
    started = time.perf_counter()
    write_population(path, max(file_row(max(sizes)), SECOND_ROWS))
    print(
        f"# generated {path.stat().st_size / 1e6:,.0f} MB in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    absent = args.lookups // 10
    picks = sample(path, sizes, WARMUP + args.lookups - absent, absent)
    print("| " + " | ".join(HEADER) + " |")
    print("|---" + "|---:" * (len(HEADER) - 1) + "|")
    try:
        for backend in args.backends.split(","):
            url = f"sqlite:///{tmp}/lookup.db" if backend == "sqlite" else args.postgres_url
            run(Database(backend, url), path, sizes, picks, args)
            if backend == "postgresql" and not args.keep:
                drop_postgres(url)
    finally:
        path.unlink(missing_ok=True)
        if args.keep:
            print(f"# kept: {tmp}/lookup.db, {args.postgres_url}")
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{tmp}/lookup.db{suffix}").unlink(missing_ok=True)
            os.rmdir(tmp)


if __name__ == "__main__":
    main()
