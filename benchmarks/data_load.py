"""Benchmark: `govshare data load` of generated population rows, against a raw load of the same rows.

Generates --rows population rows as a UTF-8 CSV with the items of the demo resource 101/000001
(人口基础信息): 公民身份号码 (key, built with govshare.core.ids.make_resident_id), 姓名, 性别, 出生日期,
民族, 户籍地址, 联系电话. Then, for each backend, on a freshly migrated database holding the demo
catalog (govshare.demo.seed.load_demo):

* load: ``govshare.data.service.load`` of the whole file into 101/000001 as police_officer — a first
  load, so every row is an insert: every ID validated, every row's change-log entry written, one
  transaction;
* raw (the baseline): the same CSV read with csv.reader, each row turned into its key and JSON text,
  and written with no validation into a plain table with a unique key — sqlite3 ``executemany`` on
  SQLite, ``COPY`` on PostgreSQL.

Each measurement runs in a child process of its own, so its peak RSS (ru_maxrss) is that of the
measurement alone. The load and the raw run alternate, so a busy neighbour slows both.

    .venv/bin/python benchmarks/data_load.py [--rows 1000000] [--backends sqlite,postgresql] [--repeat 3]

With --repeat N each backend gets N fresh databases, each a raw run then a load run; the table gives
the medians (seconds, and load ÷ raw of each pair), the highest peak RSS, and the range of the 1-minute
load average at the start of the pairs (the machine is shared).

PostgreSQL: database ``govshare_bench_data`` on --postgres-url's server (created if missing, emptied
first).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from govshare.core.db import make_engine  # noqa: E402
from govshare.core.ids import make_resident_id  # noqa: E402
from govshare.core.migrate import upgrade  # noqa: E402

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/govshare_bench_data"
RESOURCE = "101/000001"
ACTOR = "police_officer"
COLUMNS = ["公民身份号码", "姓名", "性别", "出生日期", "民族", "户籍地址", "联系电话"]
DISTRICTS = {"440303": "罗湖区", "440304": "福田区", "440305": "南山区", "440306": "宝安区", "440307": "龙岗区",
             "440308": "盐田区", "440309": "龙华区", "440310": "坪山区", "440311": "光明区"}  # fmt: skip
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏浩宇子轩梓涵一诺欣怡"
ETHNICITIES = ["汉族"] * 95 + ["壮族", "回族", "满族", "苗族", "土家族"]


def write_population(path: Path, count: int, seed: int = 2016) -> None:
    """``count`` rows with distinct resident IDs (division × birth date × sequence never repeats)."""
    rng = random.Random(seed)
    start = dt.date(1930, 1, 1)
    divisions = list(DISTRICTS)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(COLUMNS)
        for n in range(count):
            division = divisions[n % len(divisions)]
            born = start + dt.timedelta(days=(n // len(divisions)) // 1000 % 33_000)
            sequence = (n // len(divisions)) % 1000
            if n >= len(divisions) * 1000 * 33_000:
                raise ValueError("too many rows for distinct IDs")
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            address = f"广东省深圳市{DISTRICTS[division]}{rng.choice('科技园学府桃园沙河西丽')}路{rng.randrange(1, 999)}号"
            out.writerow(
                [make_resident_id(division, born, sequence), name, "男" if sequence % 2 else "女",
                 born.isoformat(), rng.choice(ETHNICITIES), address, f"13{rng.randrange(10**9):09d}"]
            )  # fmt: skip


def prepare(name: str, url: str) -> None:
    """An empty, migrated database with the demo catalog."""
    from govshare.demo.seed import load_demo

    if name == "postgresql":
        target = make_url(url)
        admin = make_engine(
            target.set(database="postgres").render_as_string(hide_password=False),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}):
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
        admin.dispose()
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        load_demo(session, catalog_only=True)
        session.commit()
    engine.dispose()


# --- children: one measurement each, reported as one JSON line ------------------------------------


def child_load(url: str, path: Path) -> dict[str, object]:
    from govshare.auth.service import get_user_by_username
    from govshare.data import service
    from govshare.data.readers import open_source

    engine = make_engine(url)
    with Session(engine) as session:
        actor = get_user_by_username(session, ACTOR)
        started = time.perf_counter()
        source = open_source(path)
        key = service.content_key(path, "upsert")
        report = service.load(session, actor, RESOURCE, source.columns, source, batch_key=key)
        seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "seconds": seconds,
        "rows": report.rows_read,
        "inserted": report.inserted,
        "rejected": report.rejected,
    }


def child_raw(url: str, path: Path) -> dict[str, object]:
    started = time.perf_counter()
    rows = 0

    def keyed():  # type: ignore[no-untyped-def]
        nonlocal rows
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader)
            for values in reader:
                rows += 1
                yield values[0], orjson.dumps(dict(zip(header, values, strict=True))).decode()

    if url.startswith("sqlite"):
        import sqlite3

        db = sqlite3.connect(make_url(url).database or "", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("DROP TABLE IF EXISTS raw_record")
        db.execute("CREATE TABLE raw_record (record_key VARCHAR(255) NOT NULL UNIQUE, data TEXT)")
        started = time.perf_counter()
        db.execute("BEGIN")
        db.executemany("INSERT INTO raw_record (record_key, data) VALUES (?, ?)", keyed())
        db.execute("COMMIT")
        seconds = time.perf_counter() - started
        db.close()
    else:
        import psycopg

        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn) as db:
            db.execute("DROP TABLE IF EXISTS raw_record")
            db.execute("CREATE TABLE raw_record (record_key VARCHAR(255) NOT NULL UNIQUE, data TEXT)")
            db.commit()
            started = time.perf_counter()
            with db.cursor() as cur, cur.copy("COPY raw_record (record_key, data) FROM STDIN") as copy:
                for row in keyed():
                    copy.write_row(row)
            db.commit()
            seconds = time.perf_counter() - started
            db.execute("DROP TABLE raw_record")
    return {"seconds": seconds, "rows": rows}


def measure(kind: str, url: str, path: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--url", url, "--file", str(path)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to generate (default 1000000)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help=f"default {POSTGRES_URL}")
    parser.add_argument(
        "--repeat", type=int, default=1, help="raw + load pairs per backend; medians are reported (default 1)"
    )
    parser.add_argument("--child", choices=["load", "raw"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = (child_load if args.child == "load" else child_raw)(args.url, Path(args.file))
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    print(
        f"# {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; rows={args.rows:,}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "population.csv"
        started = time.perf_counter()
        write_population(path, args.rows)
        size = path.stat().st_size / 1e6
        print(f"# generated {path.name}: {size:.0f} MB in {time.perf_counter() - started:.1f} s")
        print(
            "| backend | rows | load s | load rows/s | raw s | raw rows/s | load ÷ raw | load peak RSS MB "
            "| raw peak RSS MB | load average |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for name in args.backends.split(","):
            url = f"sqlite:///{tmp}/bench.db" if name == "sqlite" else args.postgres_url
            runs = []
            for _ in range(args.repeat):  # raw and load alternate, so a busy neighbour slows both
                prepare(name, url)
                before = os.getloadavg()[0]
                raw = measure("raw", url, path)
                load = measure("load", url, path)
                assert load["inserted"] == args.rows, load
                runs.append((float(load["seconds"]), float(raw["seconds"]), load, raw, before))  # type: ignore[arg-type]
                if name == "sqlite":
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{tmp}/bench.db{suffix}").unlink(missing_ok=True)
            load_s = statistics.median(r[0] for r in runs)
            raw_s = statistics.median(r[1] for r in runs)
            ratio = statistics.median(r[1] / r[0] for r in runs)  # load ÷ raw speed, per pair
            rss_load = max(float(r[2]["peak_rss_mb"]) for r in runs)  # type: ignore[arg-type]
            rss_raw = max(float(r[3]["peak_rss_mb"]) for r in runs)  # type: ignore[arg-type]
            loads = "–".join(
                f"{r[4]:.1f}" for r in (min(runs, key=lambda r: r[4]), max(runs, key=lambda r: r[4]))
            )
            print(
                f"| {name} | {args.rows:,} | {load_s:.1f} | {args.rows / load_s:,.0f} | {raw_s:.1f} | "
                f"{args.rows / raw_s:,.0f} | {ratio:.0%} | {rss_load:.0f} | {rss_raw:.0f} | {loads} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
