"""Benchmark: `govshare audit verify` over an audit log of N entries (issue 4: 10 million in under 60 s).

Builds, for each backend, a freshly migrated database (``data_load.prepare``) holding an audit log of
--entries entries that verifies: every entry's hash is computed with ``govshare.audit.chain.event_hash``
(the function ``audit.record`` uses), chained to the one before it, with a checkpoint every
``audit_checkpoint_every`` (default 1000) entries signed by ``audit.service._sign`` under the platform's
checkpoint key, and the chain head set. Entries look like the exchange's: lookups, verifications,
searches, profiles, bulk exports, token requests, grant decisions, citizen log views … by 60
applications of 29 departments, with case ids, service items, purposes, keyed subject hashes, item
lists, refusals with their codes, latencies and request ids. One generation feeds every backend: rows go
in bulk (sqlite3 ``executemany`` in 1M-row transactions, PostgreSQL ``COPY``) with the secondary indexes
dropped, which are then recreated from the model; then ``ANALYZE`` (PostgreSQL ``VACUUM ANALYZE``).

Then, per backend, each measurement in a child process of its own:

* verify: the real CLI, ``govshare audit verify --json`` (default workers), wall time and the peak RSS
  of the largest process of its tree; also with ``--workers 1`` (the sequential walk), and with
  ``--before DIR`` the CLI of an older checkout (``DIR/govshare``, e.g. from ``git archive``) on the
  same database;
* read (baseline): every row's hashed columns (23 values, the exact reader ``verify_rows.fetch_rows``:
  same driver, streamed with fetchmany), no hashing; on SQLite also the rows of the SQLite reader's
  query (``verify_sqlite.fast_sql``: SQLite writes each row's JSON), no hashing;
* hash (baseline, no database): the exact reader's canonical serialisation + SHA-256 + comparison over
  rows already in memory (min(N, 500k) rows read first, untimed), on SQLite also the SQLite reader's
  (its JSON rows read first, untimed), and, for contrast, the specification's ``chain.event_hash`` over
  the same rows as dicts, and the documented json.dumps recipe (``chain.canonical_event``).

    .venv/bin/python benchmarks/audit_verify.py [--entries 10000000] [--backends sqlite,postgresql] [--before DIR]

PostgreSQL: database ``govshare_bench_audit`` on --postgres-url's server (created if missing, emptied
first). SQLite: a file in a temporary directory (or --dir), removed afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from benchmarks.data_load import prepare  # noqa: E402
from govshare.audit import chain as canon  # noqa: E402
from govshare.audit import service, verify_rows, verify_sqlite  # noqa: E402
from govshare.audit.models import MAIN_CHAIN, AuditChainHead, AuditEvent  # noqa: E402
from govshare.core.db import make_engine  # noqa: E402
from govshare.core.settings import Settings  # noqa: E402

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/govshare_bench_audit"
SECRET = "govshare-benchmark-secret-0123456789abcdef"
GOVSHARE = str(Path(sys.executable).with_name("govshare"))
HASH_SAMPLE = 500_000
BATCH = 100_000
START = datetime(2026, 1, 1, tzinfo=UTC)

OPERATIONS = [("lookup", 50), ("verify", 16), ("search", 10), ("profile", 8), ("token", 8),
              ("bulk_export", 1), ("subscribe", 1), ("citizen_log", 2), ("subject_link", 1),
              ("grant_decision", 1), ("grant_change", 1), ("audit_export", 1)]  # fmt: skip
RESOURCES = {
    "101/000001": ["公民身份号码", "姓名", "性别", "出生日期", "民族", "户籍地址", "联系电话"],
    "102/000003": ["统一社会信用代码", "企业名称", "法定代表人", "注册资本", "成立日期", "登记状态"],
    "103/000007": ["公民身份号码", "姓名", "参保状态", "缴费基数", "参保单位"],
    "104/000002": ["房屋编码", "坐落", "建筑面积", "产权人", "登记日期"],
    "105/000011": ["公民身份号码", "姓名", "婚姻状况", "登记机关", "登记日期"],
    "106/000004": ["公民身份号码", "姓名", "学历", "毕业院校", "毕业时间"],
}
PURPOSES = ["办理居住证", "企业开办核验申报人身份", "社保待遇资格认证", "不动产登记核验权属", "婚姻登记核验",
            "人才引进学历核验", "公积金提取核验", "低保申请家庭经济状况核对"]  # fmt: skip
REFUSALS = ["no_grant", "missing_case_id", "item_not_granted", "grant_expired", "rate_limited",
            "missing_service_item", "grant_suspended"]  # fmt: skip
OPERATORS = [
    s + g for s in "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗" for g in ("伟", "芳", "娜", "秀英", "敏", "强")
]


def _templates(rng: random.Random, count: int = 5000) -> list[dict[str, Any]]:
    """Who does what: application calls on the exchange, users' decisions and the citizen log."""
    names, weights = zip(*OPERATIONS, strict=True)
    result = []
    for _ in range(count):
        operation = rng.choices(names, weights)[0]
        resource_code = rng.choice(list(RESOURCES))
        items = RESOURCES[resource_code]
        by_app = operation in ("lookup", "verify", "search", "profile", "token", "bulk_export", "subscribe")
        refused = by_app and rng.random() < 0.05
        app = rng.randrange(1, 61)
        subject = operation in ("lookup", "verify", "profile", "citizen_log", "subject_link")
        result.append({
            "actor_kind": "application" if by_app else ("system" if operation == "citizen_log" else "user"),
            "application_id": app if by_app else None,
            "user_id": None if by_app else rng.randrange(1, 400),
            "department_id": (app - 1) % 29 + 1 if by_app else rng.randrange(1, 30),
            "operator": rng.choice(OPERATORS),
            "service_item": f"11440300MB2C{rng.randrange(10**6):06d}X{rng.randrange(10**4):04d}" if by_app else None,
            "purpose": rng.choice(PURPOSES) if by_app else None,
            "operation": operation,
            "resource_code": resource_code if operation not in ("token", "citizen_log") else None,
            "subject_key_type": ("credit_code" if resource_code == "102/000003" else "person_id") if subject else None,
            "items": [] if refused or operation in ("token", "grant_decision", "grant_change") else
                     sorted(rng.sample(items, rng.randrange(1, len(items) + 1)), key=items.index),
            "outcome": "refused" if refused else "allowed",
            "refusal_code": rng.choice(REFUSALS) if refused else None,
            "client_address": f"10.{rng.randrange(16, 32)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        })  # fmt: skip
    return result


def entries(n: int, seed: int = 4) -> Any:
    """Yield the rows (in column order, as written to SQL: SQLite's text forms) of seq 1..n, chained."""
    rng = random.Random(seed)
    templates = _templates(rng)
    for template in templates:  # the items as SQLAlchemy's JSON type writes them (event_hash ignores the key)
        template["items_text"] = json.dumps(template["items"])
    pick, bits = rng.random, rng.getrandbits
    prev = "0" * 64
    at = START
    day, day_text = 0, ""
    for seq in range(1, n + 1):
        at += timedelta(microseconds=1 + int(pick() * 6_000_000))
        if at.day != day:
            day, day_text = at.day, f"SZ{at:%Y%m%d}"
        values = dict(templates[int(pick() * len(templates))])
        values.update(
            chain=MAIN_CHAIN, seq=seq, occurred_at=at, prev_hash=prev,
            case_id=f"{day_text}{int(pick() * 10**8):08d}" if values["application_id"] else None,
            subject_key_hash=f"{bits(256):064x}" if values["subject_key_type"] else None,
            latency_ms=1 + int(pick() * 40) if values["application_id"] else None,
            request_id=f"{bits(128):032x}",
        )  # fmt: skip
        prev = canon.event_hash(values)  # the function audit.record uses
        row = [values[name] for name in canon.HASHED_FIELDS]
        row[2] = at.isoformat(" ", "microseconds")[:26]  # SQLite's storage form; PostgreSQL reads it in UTC
        row[15] = values["items_text"]
        row.append(prev)
        yield row


def build(targets: dict[str, str], n: int, settings: Settings) -> dict[str, float]:
    """Write the log of ``n`` entries into every target database at once; returns seconds per phase."""
    import sqlite3

    import psycopg

    columns = ", ".join(f'"{c}"' for c in (*canon.HASHED_FIELDS, "hash"))
    table = AuditEvent.__table__
    engines = {name: make_engine(url) for name, url in targets.items()}
    for engine in engines.values():
        with engine.begin() as conn:
            for index in table.indexes:
                index.drop(conn)
    sinks: list[Any] = []
    if "sqlite" in targets:
        db = sqlite3.connect(make_url(targets["sqlite"]).database or "", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        sql = f"INSERT INTO audit_event ({columns}) VALUES ({', '.join('?' * 23)})"
        sinks.append(("sqlite", db, sql))
    if "postgresql" in targets:
        dsn = (
            make_url(targets["postgresql"]).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        pg = psycopg.connect(dsn)
        pg.execute("SET TIME ZONE 'UTC'")
        copy_cm = pg.cursor().copy(f"COPY audit_event ({columns}) FROM STDIN")
        copy = copy_cm.__enter__()
        sinks.append(("postgresql", pg, copy))
    checkpoints: list[tuple[int, str]] = []
    every = settings.audit_checkpoint_every
    started = time.perf_counter()
    batch: list[list[Any]] = []
    last_hash = "0" * 64

    def flush() -> None:
        for name, conn, target in sinks:
            if name == "sqlite":
                conn.execute("BEGIN")
                conn.executemany(target, batch)
                conn.execute("COMMIT")
            else:
                for row in batch:
                    target.write_row(row)
        batch.clear()

    for row in entries(n):
        batch.append(row)
        if row[1] % every == 0:
            checkpoints.append((row[1], row[-1]))
        last_hash = row[-1]
        if len(batch) >= BATCH:
            flush()
    flush()
    timings = {"generate and write": time.perf_counter() - started}
    for name, conn, _ in sinks:
        if name == "postgresql":
            copy_cm.__exit__(None, None, None)
        conn.commit() if name == "postgresql" else None
        conn.close()
    for name, engine in engines.items():
        started = time.perf_counter()
        with engine.begin() as conn:
            for index in table.indexes:
                index.create(conn)
        with Session(engine) as session:
            session.execute(insert(AuditChainHead).values(chain=MAIN_CHAIN, last_seq=n, last_hash=last_hash))
            for seq, hash_ in checkpoints:  # the real signing function: key, message, signature, row
                service._sign(session, settings, MAIN_CHAIN, seq, hash_)
            session.commit()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE audit_event" if name == "postgresql" else "ANALYZE"))
        engine.dispose()
        timings[f"{name}: indexes, head, checkpoints, analyze"] = time.perf_counter() - started
    return timings


# --- children: one measurement each, reported as one JSON line ------------------------------------


def child_read(url: str, kind: str) -> dict[str, object]:
    """Every row, streamed through the same driver, no hashing: ``rows``, the exact reader's 23 values a
    row; ``sqlite-json``, the SQLite reader's query (seq, links, items and the row's JSON)."""
    engine = make_engine(url)
    raw = engine.raw_connection()
    conn = raw.driver_connection
    started = time.perf_counter()
    rows = 0
    if kind == "rows":
        for batch in verify_rows.fetch_rows(conn, engine.dialect.name, MAIN_CHAIN, 1, None):
            rows += len(batch)
    else:
        cursor = conn.execute(verify_sqlite.fast_sql(conn, None), (MAIN_CHAIN, 1))
        while batch := cursor.fetchmany(verify_rows.FETCH):
            rows += len(batch)
    seconds = time.perf_counter() - started
    raw.close()
    engine.dispose()
    return {"seconds": seconds, "rows": rows}


def child_hash(url: str) -> dict[str, object]:
    """The exact reader's hashing over rows in memory (SQLite: also the SQLite reader's over its JSON
    rows); chain.event_hash over the same rows as dicts; and the documented recipe (json.dumps,
    chain.canonical_event) over them."""
    engine = make_engine(url)
    dialect = engine.dialect.name
    raw = engine.raw_connection()
    conn = raw.driver_connection
    rows: list[Any] = []
    for batch in verify_rows.fetch_rows(conn, dialect, MAIN_CHAIN, 1, HASH_SAMPLE):
        rows.extend(batch)
    json_rows = (
        conn.execute(verify_sqlite.fast_sql(conn, HASH_SAMPLE), (MAIN_CHAIN, 1, HASH_SAMPLE)).fetchall()
        if dialect == "sqlite"
        else []
    )
    raw.close()
    engine.dispose()
    result: dict[str, object] = {"rows": len(rows)}
    if json_rows:
        hasher = verify_sqlite.Hasher()
        started = time.perf_counter()
        hashes = [h for start in range(0, len(json_rows), verify_rows.FETCH)
                  for h in hasher(json_rows[start : start + verify_rows.FETCH])]  # fmt: skip
        result["sqlite_json_seconds"] = time.perf_counter() - started
        assert hashes == [row[2] for row in json_rows]
    row_hash = verify_rows.row_hasher(dialect)
    started = time.perf_counter()
    bad = sum(row_hash(row) != row[-1] for row in rows)
    result["seconds"] = time.perf_counter() - started
    docs = [verify_rows.row_values(row, dialect) for row in rows[: len(rows) // 5]]
    started = time.perf_counter()
    bad_spec = sum(canon.event_hash(doc) != doc["hash"] for doc in docs)
    spec = time.perf_counter() - started
    started = time.perf_counter()
    bad_json = sum(hashlib.sha256(canon.canonical_event(doc)).hexdigest() != doc["hash"] for doc in docs)
    stdlib = time.perf_counter() - started
    assert bad == bad_spec == bad_json == 0, (bad, bad_spec, bad_json)
    return result | {"spec_rows": len(docs), "spec_seconds": spec, "json_seconds": stdlib}


def child_verify(url: str, workers: int | None, before: str | None = None) -> dict[str, object]:
    """The real CLI in a process of its own (``before``: the govshare package of that directory): wall
    time and the peak RSS of its largest process."""
    env = os.environ | {"GOVSHARE_DATABASE_URL": url, "GOVSHARE_SECRET_KEY": SECRET}
    if before:
        env["PYTHONPATH"] = before
    argv = [GOVSHARE, "audit", "verify", "--json", *(["--workers", str(workers)] if workers else [])]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    report = json.loads(out)
    return {"seconds": seconds, "exit": os.waitstatus_to_exitcode(status), "peak_rss_mb": usage.ru_maxrss / 1024,
            "ok": report["ok"], "events": report["events_checked"], "checkpoints": report["checkpoints_checked"],
            "first_problem": report["first_problem"]}  # fmt: skip


def measure(kind: str, url: str, workers: int | None = None, before: str | None = None) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--child", kind, "--url", url]
    argv += ["--workers", str(workers)] if workers else []
    argv += ["--before", before] if before else []
    load = os.getloadavg()[0]
    out = subprocess.run(argv, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["load"] = load
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000_000, help="audit entries (default 10000000)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help=f"default {POSTGRES_URL}")
    parser.add_argument("--dir", help="directory of the SQLite file (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the databases (SQLite: needs --dir)")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the databases a --keep run of the same --entries left"
    )
    parser.add_argument(
        "--sequential",
        default="sqlite,postgresql",
        help="backends to also verify with --workers 1 (default both)",
    )
    parser.add_argument(
        "--before",
        help="also time the CLI of an older checkout: a directory holding its govshare package "
        "(e.g. git archive REV govshare | tar -x -C DIR), with default workers",
    )
    parser.add_argument("--child", choices=["read", "read-json", "hash", "verify"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child == "verify":
            result = child_verify(args.url, args.workers, args.before)
        else:
            if args.child == "hash":
                result = child_hash(args.url)
            else:
                result = child_read(args.url, "rows" if args.child == "read" else "sqlite-json")
            result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    n = args.entries
    print(f"# {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; entries={n:,}")
    settings = Settings(environment="test", secret_key=SECRET)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        base = Path(args.dir) if (args.keep or args.reuse) and args.dir else Path(tmp)
        urls = {
            name: f"sqlite:///{base}/audit_bench.db" if name == "sqlite" else args.postgres_url
            for name in args.backends.split(",")
        }
        if args.reuse:
            for name, url in urls.items():
                assert _head_seq(url) == n, f"{name}: no log of {n} entries to reuse"
            print("# reusing the databases of a --keep run")
        else:
            for name, url in urls.items():
                if name == "sqlite":
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{base}/audit_bench.db{suffix}").unlink(missing_ok=True)
                prepare(name, url)
            started = time.perf_counter()
            for phase, seconds in build(urls, n, settings).items():
                print(f"# built: {phase} {seconds:.1f} s")
            print(f"# built in {time.perf_counter() - started:.0f} s, load average {os.getloadavg()[0]:.1f}")
        for name, url in urls.items():
            print(f"# {name}: audit_event {_size_mb(name, url):,.0f} MB with its indexes")
        started = time.perf_counter()
        subprocess.run([GOVSHARE, "audit", "verify", "--help"], check=True, capture_output=True)
        print(f"# CLI start-up (govshare audit verify --help): {time.perf_counter() - started:.2f} s")
        print("| backend | entries | measurement | s | entries/s | ÷ read | peak RSS MB | load |")
        print("|---|---:|---|---:|---:|---:|---:|---:|")
        for name, url in urls.items():
            read = measure("read", url)
            reads = [("read every row's 23 values (baseline)", read["seconds"], read)]
            if name == "sqlite":
                json_read = measure("read-json", url)
                reads.append(
                    (
                        "read every row's JSON, SQLite reader's query (baseline)",
                        json_read["seconds"],
                        json_read,
                    )
                )
            runs = [("verify (CLI, default workers)", measure("verify", url))]
            if name in args.sequential.split(","):
                runs.append(("verify (CLI, --workers 1)", measure("verify", url, 1)))
            if args.before:
                runs.append(
                    (
                        f"verify, CLI of {args.before} (default workers)",
                        measure("verify", url, None, args.before),
                    )
                )
            hashed = measure("hash", url)
            for _, run in runs:
                assert run["exit"] == 0 and run["ok"] and run["events"] == n, run
            rate = hashed["rows"] / hashed["seconds"]
            spec_rate = hashed["spec_rows"] / hashed["spec_seconds"]
            hashes = []
            if "sqlite_json_seconds" in hashed:
                json_rate = hashed["rows"] / hashed["sqlite_json_seconds"]
                hashes.append(
                    (
                        f"hash only, SQLite reader's JSON rows in memory ({hashed['rows']:,} rows; s = rate × N)",
                        n / json_rate,
                        hashed,
                    )
                )
            table = [
                *reads,
                *((label, run["seconds"], run) for label, run in runs),
                *hashes,
                (f"hash only, exact reader's rows in memory ({hashed['rows']:,} rows; s = rate × N)", n / rate, hashed),
                (f"hash only, chain.event_hash ({hashed['spec_rows']:,} rows; s = rate × N)", n / spec_rate, hashed),
                (f"hash only, json.dumps recipe ({hashed['spec_rows']:,} rows; s = rate × N)",
                 n * hashed["json_seconds"] / hashed["spec_rows"], hashed),
            ]  # fmt: skip
            for label, seconds, m in table:
                print(f"| {name} | {n:,} | {label} | {seconds:.1f} | {n / seconds:,.0f} | "
                      f"{seconds / read['seconds']:.2f} | {m['peak_rss_mb']:.0f} | {m['load']:.1f} |", flush=True)  # fmt: skip
        if not (args.keep or args.reuse) and "postgresql" in urls:
            _drop_postgres(args.postgres_url)


def _head_seq(url: str) -> int | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT last_seq FROM audit_chain_head WHERE chain = 'main'"))
    except Exception:  # no such database or table
        return None
    finally:
        engine.dispose()


def _size_mb(name: str, url: str) -> float:
    if name == "sqlite":
        return Path(make_url(url).database or "").stat().st_size / 1e6
    engine = make_engine(url)
    with engine.connect() as conn:
        size = conn.scalar(text("SELECT pg_total_relation_size('audit_event')"))
    engine.dispose()
    return float(size or 0) / 1e6


def _drop_postgres(url: str) -> None:
    target = make_url(url)
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}"'))
    admin.dispose()


if __name__ == "__main__":
    main()
