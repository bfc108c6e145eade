"""Benchmark: the exchange lookup over HTTP, against Datasette and a bare ASGI app (issue 4, Performance).

Target (issue 4): an authorized lookup by key — token, case headers, grant check, rate limit,
masking and a durable audit entry — over 1M population records, 32 concurrent connections from wrk
on loopback: ≥ 2,000 requests/s and p99 ≤ 20 ms on SQLite and on PostgreSQL, and at least twice
Datasette's throughput serving the same rows as JSON by primary key, in the same run.

Per backend (--backends sqlite,postgresql), one database: migrated, the demo catalog
(benchmarks/data_load.py's ``prepare``), and --records rows of ``write_population`` in 101/000001
(人口基础信息), written with benchmarks/key_lookup.py's bulk ``fill`` (sqlite3 executemany / COPY).
The market regulator's data officer registers an application and files a request for every item
of 101/000001 with the ``lookup`` operation and 姓名 unmasked; the resource is unconditional, so the
grant comes at once (公民身份号码, 户籍地址 and 联系电话 stay masked by their rules). The grant has no rate
limit of its own, and the servers run with GOVSHARE_EXCHANGE_RATE_LIMIT_PER_MINUTE=1000000 (a grant's
own limit is capped at 100,000 a minute, below the target): the limiter still runs on every call. The
token comes from ``govshare.exchange.service.issue_token`` with a one-hour lifetime, one per server
start.

Then, at each --connections count (default 10,32,50), in this order, each for --duration seconds
after a --warmup run:

* govshare: ``govshare serve --workers W`` (uvicorn, its defaults: uvloop, httptools, access log on,
  written to a file) for each W of --workers (default 1,2); wrk's Lua script picks a random key per
  request from --key-sample keys of the loaded records and sends Authorization, X-Case-Id and
  X-Operator;
* Datasette (``datasette serve -i population.db``: immutable mode, which skips the file's change checks)
  on a SQLite file with table population(公民身份号码 TEXT PRIMARY KEY, and the 6 other items), holding the
  same rows: /population/population/{key}.json with random keys from the same sample;
* hello: a bare ASGI app (``hello`` below) under the same uvicorn settings, GET /.

wrk runs with -t --threads (2) and --latency (p50, p90, p99 from its histogram). Before timing,
one lookup must answer 200 with the ID and mobile masked and the name in clear. Around each timed
govshare run the audit_event rows are counted once the count is still (requests in flight finish):
every 2xx must have its committed entry (the count may exceed wrk's by requests still in flight when
wrk stopped, at most one per connection); the status codes of its answers are read from uvicorn's
access log. The target and the ratios count 2xx answers per second. The 1-minute load average is
taken just before each run.

    apt-get install -y wrk                      # Debian's wrk 4.1; the benchmark refuses to run without it
    .venv/bin/pip install -e '.[bench]'         # datasette
    .venv/bin/python benchmarks/exchange_lookup.py [--records 1000000] [--backends sqlite,postgresql]
        [--connections 10,32,50] [--workers 1,2] [--duration 30] [--warmup 5] [--profile 20]
        [--redis redis://127.0.0.1:6379/0]

--redis URL: runs with several workers share each grant's rate-limit bucket in that Redis
(GOVSHARE_REDIS_URL), as a deployment of several processes must; one worker keeps its own.

--profile N: per backend, at the first --workers count, the server's CPU time per answer at 1 and 32
connections (10 s each, from /proc), then a py-spy record (100 Hz, --gil: the samples of the thread
holding the GIL) of one worker for N seconds during a run at 32 connections, and each step's share of
the samples (py-spy: `.venv/bin/pip install py-spy`).

PostgreSQL: database ``govshare_bench_exchange`` on --postgres-url's server (created if missing,
emptied first, dropped at the end). SQLite files live in a temporary directory, removed at the end.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BIN = Path(sys.executable).parent
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/govshare_bench_exchange"
SECRET = "govshare-benchmark-secret-key-0123456789abcdef"
ENV = {
    "GOVSHARE_SECRET_KEY": SECRET,
    "GOVSHARE_ENVIRONMENT": "development",
    "GOVSHARE_BASE_URL": "http://127.0.0.1",
    "GOVSHARE_EXCHANGE_RATE_LIMIT_PER_MINUTE": "1000000",
    "GOVSHARE_EXCHANGE_TOKEN_TTL_SECONDS": "3600",
}
CASE = {"X-Case-Id": "SZ-BENCH-2026-0001", "X-Operator": "bench01"}
LOOKUP_PATH = "/api/v1/exchange/data/resources/101/000001/records/"
DATASETTE_PATH = "/population/population/"
UNMASKED = ["姓名"]
TARGET_RPS, TARGET_P99_MS, TARGET_CONNECTIONS = 2000, 20.0, 32
LUA = """
local keys = {}
local prefix, suffix = %(prefix)s, %(suffix)s
%(headers)s
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  for line in io.lines(%(keys)s) do keys[#keys + 1] = line end
  math.randomseed(os.time() * 100 + (seed or 0))
end
function request()
  return wrk.format(nil, prefix .. keys[math.random(#keys)] .. suffix)
end
"""
# py-spy frames → the step of a lookup they belong to: (step, file path fragments, function names). A
# sample counts for the innermost frame that matches; SQLAlchemy and driver time under it is shown apart.
STEPS = [
    ("audit append (govshare.audit)", ("govshare/audit/",), ()),
    ("commit", (), ("commit", "_commit_impl", "do_commit")),
    ("token check (JWT, application)", ("exchange/tokens.py", "exchange/deps.py", "exchange/service.py"), ()),
    ("grant check", ("exchange/grants.py",), ()),
    ("rate limiter", ("exchange/ratelimit.py",), ()),
    ("resource + items (catalog)", ("catalog/service.py",), ()),
    (
        "record query, key, masking, answer",
        ("exchange/query.py", "exchange/masking.py", "exchange/data_api.py"),
        (),
    ),
    ("session open/close", ("web/deps.py",), ()),
    ("metrics (/metrics counters and histograms)", ("web/metrics.py", "prometheus_client/"), ()),
    (
        "data lane + plane (headers, cached views, batching, answer bytes)",
        ("exchange/lane.py", "exchange/plane.py", "exchange/views.py"),
        (),
    ),
    ("FastAPI/Starlette (routing, deps, middleware)", ("fastapi/", "starlette/", "govshare/web/"), ()),
    ("uvicorn/uvloop/asyncio (HTTP, event loop)", ("uvicorn/", "uvloop", "httptools", "asyncio/"), ()),
    ("anyio thread pool, thread switches", ("anyio/", "threading.py", "concurrent/"), ()),
]
OTHER = "other (incl. stacks py-spy could not walk to the top)"
DATABASE_CODE = ("sqlalchemy/", "psycopg/", "sqlite3")


def hello_app() -> Any:
    """The bare ASGI 'hello' endpoint, for ``uvicorn benchmarks.exchange_lookup:hello``."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"5")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"hello"})

    return app


hello = hello_app()


@dataclass
class Result:
    backend: str
    target: str
    connections: int
    rps: float = 0.0
    p50: float = 0.0
    p90: float = 0.0
    p99: float = 0.0
    requests: int = 0
    errors: int = 0  # socket errors
    non2xx: int = 0
    load: float = 0.0
    audited: int | None = None  # audit entries written during the run (govshare only)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def answered(self) -> int:
        return self.requests - self.non2xx

    @property
    def ok_rps(self) -> float:
        """Requests/s answered 2xx: what the target and the ratios count."""
        return self.rps * self.answered / self.requests if self.requests else 0.0


# --- wrk -------------------------------------------------------------------------------------------


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(out: str, result: Result) -> Result:
    for pct, name in (("50", "p50"), ("90", "p90"), ("99", "p99")):
        found = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.M)
        setattr(result, name, _ms(found.group(1)) if found else float("nan"))
    result.requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    result.rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result.non2xx = int(non2xx.group(1)) if non2xx else 0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result.errors = sum(int(n) for n in errors.groups()) if errors else 0
    return result


def wrk(url: str, connections: int, threads: int, seconds: int, script: Path | None) -> str:
    command = ["wrk", f"-c{connections}", f"-t{min(threads, connections)}", f"-d{seconds}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], check=True, capture_output=True, text=True, timeout=seconds + 60)
    return out.stdout


def lua_script(path: Path, keys: Path, prefix: str, suffix: str, headers: dict[str, str]) -> Path:
    lines = "\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
    path.write_text(
        LUA % {"prefix": json.dumps(prefix), "suffix": json.dumps(suffix), "headers": lines,
               "keys": json.dumps(str(keys))},
        encoding="utf-8",
    )  # fmt: skip
    return path


# --- servers ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A server process group started for a run; ``url`` answers once it is up."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, log: Path, probe: str = "/"):
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            command, env=os.environ | env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(self.url + probe, timeout=5).close()
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"server did not start: {' '.join(command)} (see {log})") from None
                time.sleep(0.3)

    def worker_pids(self) -> list[int]:
        """The processes serving requests: the children of uvicorn's supervisor, else itself."""
        out = subprocess.run(
            ["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        children = [int(p) for p in out]
        return children or [self.proc.pid]

    def statuses(self, since: int) -> dict[str, int]:
        """Status codes in uvicorn's access log after byte ``since`` (what the non-2xx answers were)."""
        self.log.flush()
        with self.log_path.open("rb") as f:
            f.seek(since)
            found = re.findall(rb'HTTP/1\.1" (\d{3}) ', f.read())
        return dict(collections.Counter(code.decode() for code in found))

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def uvicorn_settings_command(target: str, port: int | str, workers: int) -> list[str]:
    """What ``govshare serve`` runs (uvicorn.run with its defaults), for another ASGI app."""
    return [str(BIN / "python"), "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers)]  # fmt: skip


# --- data ------------------------------------------------------------------------------------------


def rows_of(path: Path) -> Iterator[list[str]]:
    import csv

    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        yield from reader


def datasette_db(path: Path, source: Path) -> int:
    from benchmarks.data_load import COLUMNS

    conn = sqlite3.connect(path, isolation_level=None)
    columns = ", ".join(f'"{c}" TEXT' + (" PRIMARY KEY" if n == 0 else "") for n, c in enumerate(COLUMNS))
    conn.execute(f"CREATE TABLE population ({columns})")
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO population VALUES ({', '.join('?' * len(COLUMNS))})", rows_of(source))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    count = int(conn.execute("SELECT count(*) FROM population").fetchone()[0])
    conn.close()
    return count


def sample_keys(source: Path, out: Path, count: int) -> dict[str, list[str]]:
    """``count`` random keys of the file (one a line in ``out``); returns the rows of the sample."""
    rng = random.Random(404)
    reservoir: list[list[str]] = []
    for n, row in enumerate(rows_of(source)):
        if len(reservoir) < count:
            reservoir.append(row)
        else:
            j = rng.randrange(n + 1)
            if j < count:
                reservoir[j] = row
    out.write_text("".join(row[0] + "\n" for row in reservoir), encoding="ascii")
    return {row[0]: row for row in reservoir[:50]}


def settings_for(url: str) -> Any:
    """The servers' settings (ENV), for the token and grant made in this process."""
    from govshare.core.settings import Settings

    values = {name.removeprefix("GOVSHARE_").lower(): value for name, value in ENV.items()}
    return Settings(database_url=url, **values)  # type: ignore[arg-type]


def setup_exchange(url: str) -> tuple[str, str, int]:
    """Application of the market regulator, its grant on 101/000001 (lookup, 姓名 unmasked).
    Returns (client_id, secret, grant id)."""
    from sqlalchemy.orm import Session

    from benchmarks.data_load import COLUMNS, RESOURCE
    from govshare.auth.service import get_user_by_username
    from govshare.core.db import make_engine
    from govshare.exchange import requests, service
    from govshare.exchange.grant_schemas import AccessRequestIn
    from govshare.exchange.schemas import ApplicationIn

    settings = settings_for(url)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        officer = get_user_by_username(session, "market_officer")
        assert officer is not None
        app, secret = service.register_application(
            session, officer,
            ApplicationIn(name="压测受理系统", channel="hall", contact_name="张三", contact_phone="13800138000",
                          description="exchange_lookup.py"),
        )  # fmt: skip
        request = requests.submit_request(
            session, officer, settings,
            AccessRequestIn(application_id=app.id, resource_code=RESOURCE, items=COLUMNS, operations=["lookup"],
                            purpose="企业开办时核验法定代表人身份（压测）", legal_basis="《优化营商环境条例》",
                            unmasked_items=UNMASKED),
        )  # fmt: skip
        assert request.grant_id is not None, request.status
        client_id, grant_id = app.client_id, request.grant_id
    engine.dispose()
    return client_id, secret, grant_id


def issue_token(url: str, client_id: str, secret: str) -> str:
    from sqlalchemy.orm import Session

    from govshare.core.db import make_engine
    from govshare.exchange import service

    settings = settings_for(url)
    engine = make_engine(url)
    with Session(engine) as session:
        token = service.issue_token(session, settings, client_id, secret).token
        session.commit()
    engine.dispose()
    return token


def audit_count(url: str) -> int:
    from sqlalchemy import text

    from govshare.core.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        count = int(conn.scalar(text("SELECT count(*) FROM audit_event")) or 0)
    engine.dispose()
    return count


def settled_audit_count(url: str) -> int:
    """The audit entry count once requests still in flight when wrk stopped are done (stable for 1 s)."""
    count, deadline = audit_count(url), time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(1)
        count, previous = audit_count(url), count
        if count == previous:
            break
    return count


def check_lookup(base: str, headers: dict[str, str], row: list[str]) -> dict[str, Any]:
    """One lookup: 200, ID and mobile masked, the name (unmasked in the grant) in clear."""
    request = urllib.request.Request(base + LOOKUP_PATH + row[0], headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200, response.status
        body = json.loads(response.read())
    values = body["values"]
    assert values["姓名"] == row[1], values
    assert values["公民身份号码"] == row[0][:4] + "*" * 10 + row[0][-4:], values
    assert values["联系电话"] == row[6][:3] + "****" + row[6][-4:], values
    assert "姓名" not in body["masked"] and "公民身份号码" in body["masked"], body
    return body  # type: ignore[no-any-return]


# --- profile ---------------------------------------------------------------------------------------


def _frame(text: str) -> tuple[str, str]:
    """py-spy's ``function (path:line)`` as (function, path)."""
    function, _, where = text.partition(" (")
    return function, where.rsplit(":", 1)[0]


def profile_steps(raw: Path) -> list[tuple[str, float, float]]:
    """(step, share of the samples, share inside SQLAlchemy or the driver) from py-spy's folded stacks."""
    totals: collections.Counter[str] = collections.Counter()
    in_database: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = [_frame(f) for f in stack.split(";")]
        step = next(
            (
                name
                for function, path in reversed(frames)
                for name, paths, functions in STEPS
                if function in functions or any(p in path for p in paths)
            ),
            OTHER,
        )
        samples += int(count)
        totals[step] += int(count)
        if any(d in path for _, path in frames for d in DATABASE_CODE):
            in_database[step] += int(count)
    return [(step, n / samples, in_database[step] / samples) for step, n in totals.most_common()]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def py_spy(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes]:
    spy = shutil.which("py-spy") or str(BIN / "py-spy")
    return subprocess.Popen(
        [spy, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "100", "--gil",
         "--format", "raw", "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


# --- the run ---------------------------------------------------------------------------------------


def fill_database(backend: str, url: str, source: Path) -> float:
    from benchmarks.key_lookup import Database, fill, population, setup

    started = time.perf_counter()
    db = Database(backend, url)
    setup(db)
    count = fill(db, db.resource_id, db.batch_id, population(source, skip_gaps=False))
    return count / (time.perf_counter() - started)


def measure(
    label: tuple[str, str], server: Server, connections: int, args: argparse.Namespace, script: Path | None,
    audit_url: str | None = None,
) -> Result:  # fmt: skip
    """A warm-up run, then the timed one; with ``audit_url``, the audit entries written during it and
    the status codes of its answers (from the access log)."""
    if args.warmup:
        wrk(server.url, connections, args.threads, args.warmup, script)
    time.sleep(1)
    before = settled_audit_count(audit_url) if audit_url else 0
    offset = server.log_path.stat().st_size
    result = Result(*label, connections, load=os.getloadavg()[0])
    parse_wrk(wrk(server.url, connections, args.threads, args.duration, script), result)
    if audit_url:
        result.audited = settled_audit_count(audit_url) - before
        result.extra["statuses"] = server.statuses(offset)
    return result


@contextlib.contextmanager
def serving(command: list[str], env: dict[str, str], log: Path, probe: str = "/") -> Iterator[Server]:
    """``command`` (its port given as {port}) running until the block ends."""
    port = free_port()
    server = Server([part.format(port=port) for part in command], env, port, log, probe)
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def govshare(
    backend: str,
    url: str,
    tmp: Path,
    keys: Path,
    workers: int,
    credentials: tuple[str, str],
    redis_url: str | None = None,
) -> Iterator[tuple[Server, Path, dict[str, str]]]:
    """``govshare serve`` on ``url``; a fresh token; the wrk script and the headers of a lookup. With
    ``redis_url`` the workers draw every grant's rate limit from one bucket in Redis."""
    command = [str(BIN / "govshare"), "serve", "--port", "{port}", "--no-migrate", "--workers", str(workers)]
    env = ENV | {"GOVSHARE_DATABASE_URL": url} | ({"GOVSHARE_REDIS_URL": redis_url} if redis_url else {})
    with serving(command, env, tmp / f"govshare-{backend}.log", "/api/v1/oauth/jwks") as server:
        headers = {"Authorization": f"Bearer {issue_token(url, *credentials)}"} | CASE
        yield server, lua_script(tmp / "lookup.lua", keys, LOOKUP_PATH, "", headers), headers


def run_backend(
    backend: str, url: str, tmp: Path, keys: Path, sample: dict[str, list[str]], datasette: Path,
    args: argparse.Namespace,
) -> list[Result]:  # fmt: skip
    client_id, secret, _grant_id = setup_exchange(url)
    results: list[Result] = []
    datasette_lua = lua_script(tmp / "datasette.lua", keys, DATASETTE_PATH, ".json", {})
    others = [
        ("Datasette (-i)", [str(BIN / "datasette"), "serve", "-i", str(datasette), "--port", "{port}"], {},
         datasette_lua),
        ("bare ASGI hello", uvicorn_settings_command("benchmarks.exchange_lookup:hello", "{port}", 1),
         {"PYTHONPATH": str(ROOT)}, None),
    ]  # fmt: skip
    for connections in [int(c) for c in args.connections.split(",")]:
        for w in [int(w) for w in args.workers.split(",")]:
            shared = args.redis if w > 1 else None
            with govshare(backend, url, tmp, keys, w, (client_id, secret), shared) as (
                server,
                script,
                headers,
            ):
                check_lookup(server.url, headers, next(iter(sample.values())))
                label = (
                    backend,
                    f"govshare, {w} worker{'s' if w > 1 else ''}" + (", Redis buckets" if shared else ""),
                )
                results.append(measure(label, server, connections, args, script, url))
                report(results[-1])
        for name, command, env, other_script in others:
            with serving(command, env, tmp / f"{name.split()[0]}.log") as server:
                results.append(measure((backend, name), server, connections, args, other_script))
                report(results[-1])
    if args.profile:
        profile_run(backend, url, tmp, keys, (client_id, secret), args)
    return results


def profile_run(
    backend: str, url: str, tmp: Path, keys: Path, credentials: tuple[str, str], args: argparse.Namespace
) -> None:
    workers = int(args.workers.split(",")[0])
    with govshare(backend, url, tmp, keys, workers, credentials) as (server, script, _headers):
        wrk(server.url, TARGET_CONNECTIONS, args.threads, max(args.warmup, 3), script)
        pids = server.worker_pids()
        for connections in (1, TARGET_CONNECTIONS):  # CPU time the server spends per answer
            before = sum(cpu_seconds(pid) for pid in pids)
            run = parse_wrk(
                wrk(server.url, connections, args.threads, 10, script), Result(backend, "", connections)
            )
            spent = sum(cpu_seconds(pid) for pid in pids) - before
            print(f"# {backend}, {workers} worker(s), {connections} connection(s): {run.ok_rps:,.0f} answers/s, "
                  f"p50 {run.p50:.1f} ms, server CPU {spent / 10:.0%} of a core, "
                  f"{spent * 1000 / max(run.answered, 1):.1f} ms CPU per answer")  # fmt: skip
        raw = tmp / f"profile-{backend}.txt"
        spy = py_spy(server.worker_pids()[0], args.profile, raw)
        out = wrk(server.url, TARGET_CONNECTIONS, args.threads, args.profile + 2, script)
        spy.wait(timeout=120)
        rps = parse_wrk(out, Result(backend, "profiled", TARGET_CONNECTIONS)).rps
        steps = profile_steps(raw)
        kept = Path(tempfile.gettempdir()) / f"govshare-exchange-profile-{backend}.txt"
        shutil.copy(raw, kept)
        print(f"\n# profile, {backend}, {workers} worker(s), 32 connections, {rps:,.0f} req/s under py-spy "
              f"(folded stacks kept in {kept}):")  # fmt: skip
        for step, share, database in steps:
            print(f"#   {share:6.1%}  {step} (SQLAlchemy + driver: {database:.1%})")


ROOT = Path(__file__).resolve().parent.parent
HEADER = ["backend", "target", "connections", "requests/s", "2xx/s", "p50 ms", "p90 ms", "p99 ms",
          "errors / non-2xx", "audit entries / 2xx", "÷ Datasette", "÷ hello", "load 1m"]  # fmt: skip


def report(result: Result) -> None:
    audited = "—" if result.audited is None else f"{result.audited:,} / {result.answered:,}"
    statuses = result.extra.get("statuses")
    print(
        f"# {result.backend} {result.target} c={result.connections}: {result.rps:,.0f} req/s, "
        f"p50 {result.p50:.1f} p99 {result.p99:.1f} ms, errors {result.errors}, non-2xx {result.non2xx}, "
        f"audit {audited}, load {result.load:.2f}" + (f", statuses {statuses}" if statuses else ""),
        flush=True,
    )


def _failures(result: Result) -> str:
    bad = {code: n for code, n in result.extra.get("statuses", {}).items() if not code.startswith("2")}
    return " (" + ", ".join(f"{code}: {n:,}" for code, n in sorted(bad.items())) + ")" if bad else ""


def table(results: list[Result]) -> list[str]:
    base = {(r.backend, r.connections, r.target): r.ok_rps for r in results}
    lines = ["| " + " | ".join(HEADER) + " |", "|---|---|" + "---:|" * (len(HEADER) - 2)]
    for r in results:
        datasette = base.get((r.backend, r.connections, "Datasette (-i)"))
        hello_rps = base.get((r.backend, r.connections, "bare ASGI hello"))
        own = r.target.startswith("govshare")
        met = ""
        if own and r.connections == TARGET_CONNECTIONS:
            ok = (
                r.rps >= TARGET_RPS
                and r.p99 <= TARGET_P99_MS
                and (datasette is None or r.rps >= 2 * datasette)
            )
            met = " (target met)" if ok else " (target missed)"
        cells = [
            r.backend, r.target + met, str(r.connections), f"{r.rps:,.0f}", f"{r.ok_rps:,.0f}", f"{r.p50:.1f}", f"{r.p90:.1f}",
            f"{r.p99:.1f}", f"{r.errors} / {r.non2xx:,}" + _failures(r),
            "—" if r.audited is None else f"{r.audited:,} / {r.answered:,}",
            f"{r.ok_rps / datasette:.2f}×" if datasette and r.target != "Datasette (-i)" else "—",
            f"{r.ok_rps / hello_rps:.2f}×" if hello_rps and r.target != "bare ASGI hello" else "—",
            f"{r.load:.2f}",
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="population records (default 1000000)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--connections", default="10,32,50", help="wrk -c values (default 10,32,50)")
    parser.add_argument(
        "--workers", default="1,2", help="uvicorn worker processes for govshare (default 1,2)"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk -t (default 2)")
    parser.add_argument("--duration", type=int, default=30, help="seconds per timed run (default 30)")
    parser.add_argument(
        "--warmup", type=int, default=5, help="seconds of warm-up before each run (default 5)"
    )
    parser.add_argument("--key-sample", type=int, default=200_000, help="random keys wrk draws from")
    parser.add_argument("--profile", type=int, default=0, help="py-spy this many seconds per backend (0: no)")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help=f"default {POSTGRES_URL}")
    parser.add_argument(
        "--redis", default=None, help="with several workers, share the rate-limit buckets in this Redis "
        "(e.g. redis://127.0.0.1:6379/0), as a multi-process deployment must",
    )  # fmt: skip
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk (Debian's package), then run again")
    if not (BIN / "datasette").exists():
        sys.exit(f"datasette is not installed: {BIN / 'pip'} install -e '.[bench]', then run again")
    from benchmarks.data_load import write_population
    from benchmarks.key_lookup import drop_postgres

    print(
        f"# {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; records={args.records:,}; "
        f"wrk -t{args.threads} -d{args.duration}s (+{args.warmup}s warm-up); {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        flush=True,
    )  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="govshare-exchange-lookup-"))
    results: list[Result] = []
    try:
        source = tmp / "population.csv"
        started = time.perf_counter()
        write_population(source, args.records)
        keys = tmp / "keys.txt"
        sample = sample_keys(source, keys, min(args.key_sample, args.records))
        datasette = tmp / "population.db"
        rows = datasette_db(datasette, source)
        print(f"# data: {rows:,} rows generated, Datasette file built in {time.perf_counter() - started:.0f} s",
              flush=True)  # fmt: skip
        for backend in args.backends.split(","):
            url = f"sqlite:///{tmp}/govshare.db" if backend == "sqlite" else args.postgres_url
            speed = fill_database(backend, url, source)
            print(f"# {backend}: {args.records:,} records filled ({speed:,.0f} rows/s)", flush=True)
            try:
                results += run_backend(backend, url, tmp, keys, sample, datasette, args)
            finally:
                if backend == "postgresql":
                    drop_postgres(url)
        print("\n".join(["", *table(results)]))
        for r in results:
            if r.audited is not None and not (r.answered <= r.audited <= r.answered + r.connections):
                print(f"# AUDIT MISMATCH: {r.backend} {r.target} c={r.connections}: {r.audited} entries, "
                      f"{r.answered} answered")  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
