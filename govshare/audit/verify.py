"""Verification (核验调用日志): re-walk the chain, recompute every hash, check every signed checkpoint.

The walk streams events in seq order through the raw driver (one query, only the hashed columns, no
ORM objects; PostgreSQL: a server-side cursor), recomputes each hash with the same bytes as
``chain.event_hash`` (``row_hasher``), checks a whole fetched batch at once when nothing in it is
wrong (and row by row otherwise), and names each break it finds:

- ``deleted``   seq jumps (expected 41, found 44): rows 41–43 were removed; also rows missing at the
                end (the head or a checkpoint names a seq beyond the last row);
- ``modified``  the row's stored hash is not the hash of its content: a field was changed;
- ``replaced``  the row's content hashes correctly but the next row was not chained to it (or, for
                the last row, the chain head remembers another hash): it was changed and re-hashed, or
                forged in place of the original;
- ``inserted``  an original row sits one seq later than it was written (a row was inserted before it
                and the rest renumbered), or a row lies beyond the chain head;
- ``checkpoint_mismatch`` the chain's hash at a checkpoint's seq is not the signed one (the chain was
                rewritten consistently after the checkpoint);
- ``bad_signature`` a checkpoint's signature does not verify under its key (or its key is unknown).

After a break the walk re-anchors on the stored row and goes on, so independent breaks are all named;
the first is the one to investigate. ``workers`` > 1 (the CLI's default: one per CPU) walks
consecutive ranges in child processes at once and reports exactly what the sequential walk reports
(see ``_parallel``). A forger with write access can rewrite the chain after the last
checkpoint undetectably: checkpoints (and copies of them held outside the platform) bound that window.
"""

from __future__ import annotations

import gc
import hashlib
import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit import chain as canon
from govshare.audit.models import GENESIS_HASH, MAIN_CHAIN, AuditCheckpoint, AuditEvent, AuditSigningKey
from govshare.audit.service import head, verify_signature
from govshare.core.types import utcnow

FETCH = 10_000  # rows per fetch
PARALLEL_MIN = 200_000  # fewer events are walked in one process (starting a worker takes about a second)
MAX_PROBLEMS = 100
Progress = Callable[[int, int], None]  # (events checked, events to check)


@dataclass(frozen=True)
class Problem:
    seq: int
    kind: str  # deleted / modified / replaced / inserted / checkpoint_mismatch / bad_signature
    detail: str


@dataclass
class Report:
    chain: str
    from_seq: int
    head_seq: int
    head_hash: str = ""
    verified_to_seq: int = 0  # the last seq up to which the chain is intact from from_seq
    events_checked: int = 0
    checkpoints_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return min(self.problems, key=lambda p: p.seq) if self.problems else None

    def add(self, seq: int, kind: str, detail: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(seq, kind, detail))

    def to_dict(self) -> dict[str, Any]:
        first = self.first_problem
        return {"chain": self.chain, "ok": self.ok, "from_seq": self.from_seq, "head_seq": self.head_seq,
                "verified_to_seq": self.verified_to_seq, "events_checked": self.events_checked,
                "checkpoints_checked": self.checkpoints_checked,
                "first_problem": asdict(first) if first else None,
                "problems": [asdict(p) for p in sorted(self.problems, key=lambda p: p.seq)]}  # fmt: skip


def _anchor(session: Session, chain: str, from_seq: int) -> str:
    """The hash the walk starts from: genesis, or the stored hash of the row before ``from_seq``."""
    if from_seq <= 1:
        return GENESIS_HASH
    stored = session.scalar(
        select(AuditEvent.hash).where(AuditEvent.chain == chain, AuditEvent.seq == from_seq - 1)
    )
    return stored or GENESIS_HASH


# --- reading rows: the raw driver, only the hashed columns, in SORTED_FIELDS order, then the hash ---------

_TS = canon.SORTED_FIELDS.index("occurred_at")
_ITEMS = canon.SORTED_FIELDS.index("items")
_SEQ = canon.SORTED_FIELDS.index("seq")
_PREV = canon.SORTED_FIELDS.index("prev_hash")
Row = tuple[Any, ...]  # the SORTED_FIELDS values as stored (occurred_at and items raw), then the hash


def _select(dialect: str, lo: int, hi: int | None, *, before: bool = False) -> tuple[str, tuple[Any, ...]]:
    columns = [f'"{name}"' for name in (*canon.SORTED_FIELDS, "hash")]
    if dialect == "postgresql":  # a UTC wall time and the stored JSON text, as SQLite gives them
        columns[_TS] = "\"occurred_at\" AT TIME ZONE 'UTC'"
        columns[_ITEMS] = '"items"::text'
    mark = "%s" if dialect == "postgresql" else "?"
    sql = f"SELECT {', '.join(columns)} FROM audit_event WHERE chain = {mark} AND seq "
    if before:  # the last row before lo: the state a range starting at lo begins from
        return sql + f"< {mark} ORDER BY seq DESC LIMIT 1", (lo,)
    if hi is None:
        return sql + f">= {mark} ORDER BY seq", (lo,)
    return sql + f">= {mark} AND seq <= {mark} ORDER BY seq", (lo, hi)


def fetch_rows(conn: Any, dialect: str, chain: str, lo: int, hi: int | None) -> Iterator[list[Row]]:
    """Rows of ``chain`` with lo ≤ seq ≤ hi (no upper bound when None) in seq order, in lists of FETCH,
    streamed from one query on the DB-API connection ``conn`` (sqlite3, or psycopg with a server-side
    cursor inside the connection's transaction)."""
    sql, params = _select(dialect, lo, hi)
    cursor = (
        conn.cursor(name=f"govshare_audit_verify_{lo}", binary=True)
        if dialect == "postgresql"
        else conn.cursor()
    )
    try:
        cursor.execute(sql, (chain, *params))
        while batch := cursor.fetchmany(FETCH):
            yield batch
    finally:
        cursor.close()


def row_values(row: Row, dialect: str) -> dict[str, Any]:
    """A row as the SQLAlchemy model reads it (what ``canon.event_hash`` takes), with its stored hash."""
    values = dict(zip((*canon.SORTED_FIELDS, "hash"), row, strict=True))
    stamp = values["occurred_at"]
    values["occurred_at"] = (stamp if dialect == "postgresql" else datetime.fromisoformat(stamp)).replace(
        tzinfo=UTC
    )
    values["items"] = json.loads(values["items"])
    return values


def row_hasher(dialect: str) -> Callable[..., str]:
    """``row_hash(row, seq=None)``: ``canon.event_hash`` of the row (under another seq when given),
    without building model objects: the same bytes (see ``canon.canonical_doc``; the timestamp as
    ``canon.timestamp`` writes it, the items as SQLAlchemy's JSON type reads them)."""
    keys, sha256, dumps, loads, str_only = (
        canon.SORTED_FIELDS,
        hashlib.sha256,
        orjson.dumps,
        orjson.loads,
        {str},
    )
    from_text = datetime.fromisoformat
    postgres = dialect == "postgresql"
    loose = not postgres  # SQLite stores any type in any column; PostgreSQL's columns are typed

    items_of: dict[str, Any] = {}  # stored items text → its list of str (item lists repeat a lot)

    def row_hash(row: Row, seq: int | None = None) -> str:
        doc = dict(zip(keys, row, strict=False))  # stops before the stored hash
        when = row[_TS] if postgres else from_text(row[_TS])  # naive UTC (SQLite stores no offset)
        stamp = when.isoformat()  # YYYY-MM-DDTHH:MM:SS.ffffff when naive, with microseconds, year ≥ 1000
        if len(stamp) == 26 and stamp[0] != "0":
            doc["occurred_at"] = stamp + "Z"
        else:  # an offset, no microseconds, a year before 1000: as the specification writes it
            doc["occurred_at"] = canon.timestamp(when.replace(tzinfo=UTC) if when.tzinfo is None else when)
        doc["v"] = canon.FORMAT_VERSION
        if seq is not None:
            doc["seq"] = seq
        text = row[_ITEMS]
        items = items_of.get(text)
        if items is None:
            try:
                items = loads(text)
            except orjson.JSONDecodeError:  # what only the standard library reads (NaN, a huge number …)
                items = json.loads(text)
            if type(items) is not list or (items and {*map(type, items)} != str_only):
                doc["items"] = items  # not a list of str: the checked path
                return sha256(canon.canonical_doc(doc)).hexdigest()
            if len(items_of) < 100_000:
                items_of[text] = items
        doc["items"] = items
        # Stored values are str, int or None, except what SQLite's loose typing lets a forger store: a
        # float (or bytes, which orjson refuses) takes the checked path.
        if loose and float in map(type, row):
            return sha256(canon.canonical_doc(doc)).hexdigest()
        try:
            return sha256(dumps(doc)).hexdigest()
        except TypeError:  # bytes, or an int beyond 64 bits: as the specification writes it (or fails)
            return sha256(canon.canonical_json(doc)).hexdigest()

    return row_hash


# --- the walk ----------------------------------------------------------------------------------------


@dataclass
class _State:
    """What the walk carries from one row to the next."""

    expected: int  # the seq the next row should have
    prev_hash: str  # the stored hash of the row before
    prev_intact: bool = True  # whether that row hashed correctly (a link break then names that row)
    shifted: bool = False  # inside a run of rows displaced by an insertion (reported once)
    beyond: bool = False  # inside the run of rows past the chain head (reported once)

    def key(self) -> tuple[int, str, bool, bool, bool]:
        return (self.expected, self.prev_hash, self.prev_intact, self.shifted, self.beyond)


@dataclass
class _Part:
    """The walk over one range of seqs from a given state: what it found and the state it ends in."""

    lo: int
    hi: int | None
    start: _State
    end: _State
    problems: list[Problem] = field(default_factory=list)
    checked: int = 0
    verified_to: int | None = None  # the last seq before the range's first break
    broken: bool = False


@dataclass(frozen=True)
class _Walk:
    """What every range of one verification shares."""

    chain: str
    dialect: str
    head_seq: int
    head_hash: str
    checkpoints: dict[int, str]


@contextmanager
def _no_gc() -> Iterator[None]:
    """The walk makes no reference cycles: collecting would only rescan the rows it holds (~10% of its time)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _walk_range(
    batches: Iterator[list[Row]], walk: _Walk, part: _Part, done: Callable[[int], None] | None = None
) -> _Part:
    """Check every row: its seq, its hash, its link to the row before, the chain head, the checkpoints."""
    row_hash = row_hasher(walk.dialect)
    head_seq, head_hash, checkpoints = walk.head_seq, walk.head_hash, walk.checkpoints
    state = _State(**asdict(part.start))
    expected, prev_hash, prev_intact = state.expected, state.prev_hash, state.prev_intact
    shifted, beyond, broken = state.shifted, state.beyond, False
    problems = part.problems

    def add(seq: int, kind: str, detail: str) -> None:
        if len(problems) < MAX_PROBLEMS:
            problems.append(Problem(seq, kind, detail))

    cp_seqs = sorted(checkpoints)
    for rows in batches:
        hashes = [row_hash(row) for row in rows]
        stored_hashes = [row[-1] for row in rows]
        first, last = rows[0][_SEQ], rows[-1][_SEQ]
        if (  # the whole batch in order, as the per-row checks below would find it: nothing to report
            hashes == stored_hashes
            and first == expected
            and [row[_SEQ] for row in rows] == list(range(first, first + len(rows)))
            and (last < head_seq or (last == head_seq and stored_hashes[-1] == head_hash))
            and [row[_PREV] for row in rows] == [prev_hash, *stored_hashes[:-1]]
            and all(
                checkpoints[cp] == stored_hashes[cp - first]
                for cp in cp_seqs[bisect_left(cp_seqs, first) : bisect_right(cp_seqs, last)]
            )
        ):
            if not broken:
                part.verified_to = last
            prev_intact, prev_hash, expected = True, stored_hashes[-1], last + 1
            rows = []  # noqa: PLW2901 (checked)
        for row, computed in zip(rows, hashes, strict=False):
            seq, stored = row[_SEQ], row[-1]
            if seq > head_seq:
                if not beyond:  # one report for the whole run of rows past the head
                    where = f"链头（第 {head_seq} 条）" if head_seq else "链头记录缺失，"
                    add(seq, "inserted", f"第 {seq} 条起在{where}之后，不是经记录接口写入的")
                broken = beyond = True
            elif seq != expected:
                add(expected, "deleted", f"缺少第 {expected}–{seq - 1} 条（已被删除）")
                broken = True
            elif computed != stored:
                displaced = row_hash(row, seq - 1) == stored
                if displaced and not shifted:
                    add(seq - 1, "inserted", f"第 {seq - 1} 条是插入的：原第 {seq - 1} 条起被顺延一位")
                elif not displaced:
                    add(seq, "modified", f"第 {seq} 条的内容与其哈希不符（字段被修改）")
                shifted, broken = displaced, True
            elif row[_PREV] != prev_hash:
                if prev_intact:  # the row before is self-consistent but not the one this row was chained to
                    add(
                        seq - 1,
                        "replaced",
                        f"第 {seq - 1} 条不是原来写入的那一条（被改写后重算哈希，或伪造）",
                    )
                broken = True
            elif seq == head_seq and stored != head_hash:
                # the last row has no successor to expose it: the head row remembers its hash
                add(seq, "replaced", f"第 {seq} 条（链尾）不是原来写入的那一条：与链头记录的哈希不符")
                broken = True
            if seq in checkpoints and checkpoints[seq] != stored:
                add(seq, "checkpoint_mismatch", f"第 {seq} 条的哈希与已签名检查点不符（其前的记录被改写）")
                broken = True
            if not broken:
                part.verified_to = seq
            prev_intact = computed == stored
            prev_hash, expected = stored, seq + 1
        part.checked += len(hashes)
        if done:
            done(len(hashes))
    part.broken = broken
    part.end = _State(expected, prev_hash, prev_intact, shifted, beyond)
    return part


def _assumed_start(conn: Any, walk: _Walk, lo: int) -> _State:
    """The state a walk reaching ``lo`` is in when nothing near lo was tampered with, read from the last
    row before lo. Checked against the true state once the range before is walked (see ``_parallel``)."""
    sql, params = _select(walk.dialect, lo, None, before=True)
    cursor = conn.cursor()
    try:
        cursor.execute(sql, (walk.chain, *params))
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row is None:
        return _State(lo, GENESIS_HASH)
    row_hash, seq, stored = row_hasher(walk.dialect), row[_SEQ], row[-1]
    intact = row_hash(row) == stored
    displaced = not intact and row_hash(row, seq - 1) == stored
    return _State(seq + 1, stored, intact, displaced, seq > walk.head_seq)


def _raw(session: Session) -> Any:
    """The DB-API connection under the session, inside its transaction (so the walk sees what it sees)."""
    return session.connection().connection.driver_connection


def _walk_in_session(
    session: Session, walk: _Walk, part: _Part, done: Callable[[int], None] | None = None
) -> _Part:
    conn = _raw(session)
    with _no_gc():
        return _walk_range(fetch_rows(conn, walk.dialect, walk.chain, part.lo, part.hi), walk, part, done)


def _worker(url: str, walk: _Walk, part: _Part, assume: bool, counter: Any, results: Any) -> None:
    """A child process: walk one range on a connection of its own; put the part (or None) on results."""
    from govshare.core.db import make_engine

    try:
        engine = make_engine(url)
        raw = engine.raw_connection()
        try:
            conn = raw.driver_connection
            if assume:
                part.start = _assumed_start(conn, walk, part.lo)

            def done(count: int) -> None:
                with counter.get_lock():
                    counter.value += count

            with _no_gc():
                _walk_range(fetch_rows(conn, walk.dialect, walk.chain, part.lo, part.hi), walk, part, done)
        finally:
            raw.close()
            engine.dispose()
        results.put(part)
    except Exception:  # the parent walks this range itself
        results.put(None)
        raise


def _ranges(from_seq: int, head_seq: int, count: int) -> list[tuple[int, int | None]]:
    """``count`` consecutive seq ranges from from_seq; the last one has no upper bound (rows past the head)."""
    size = max((head_seq - from_seq + 1) // count, 1)
    bounds = [from_seq + i * size for i in range(count)]
    return [(lo, bounds[i + 1] - 1 if i + 1 < count else None) for i, lo in enumerate(bounds)]


def _parallel(
    session: Session,
    walk: _Walk,
    first: _State,
    workers: int,
    url: str,
    progress: Progress | None,
    total: int,
) -> list[_Part]:
    """Walk ``workers`` ranges at once: ``workers - 1`` child processes on connections of their own, and
    this process the last range (the one that reaches past the head) in its own session, so the rows it
    compares with the head are the ones of the head's snapshot. Rows up to the head never change.

    A range's walk depends on the state the walk arrives in (the previous row's hash, whether it was
    intact, whether an insertion or rows past the head are being reported). Each range after the first
    starts from the state read from the row before it; once the ranges are walked, each range's start is
    compared with the end of the one before, and a range that started from a wrong state (only possible
    where something was tampered with at the boundary) is walked again here from the right one. The
    result is therefore exactly the sequential walk's."""
    import multiprocessing
    import queue

    # fork: the children start at once and import nothing; they use only connections of their own.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    results = context.Queue()
    spans = _ranges(first.expected, walk.head_seq, workers)
    parts = [_Part(lo, hi, first, first) for lo, hi in spans]
    counters = [context.Value("q", 0) for _ in parts[:-1]]
    children = []
    for index, (part, counter) in enumerate(zip(parts[:-1], counters, strict=True)):
        child = context.Process(  # type: ignore[attr-defined]
            target=_worker, args=(url, walk, part, index > 0, counter, results), daemon=True
        )
        child.start()
        children.append(child)
    own = 0

    def report(count: int = 0) -> None:
        nonlocal own
        own += count
        if progress:
            progress(own + sum(c.value for c in counters), total)

    last = parts[-1]
    last.start = _assumed_start(_raw(session), walk, last.lo) if len(parts) > 1 else first
    _walk_in_session(session, walk, last, report)
    done: dict[int, _Part] = {}  # by lo; a child that failed sends None and its range is walked below
    received = 0
    while received < len(children):
        try:
            part = results.get(timeout=0.5)
        except queue.Empty:
            report()
            if not any(child.is_alive() for child in children) and results.empty():
                break
            continue
        received += 1
        if part is not None:
            done[part.lo] = part
    for child in children:
        child.join()
    walked = [done.get(part.lo) for part in parts[:-1]] + [last]
    state = first
    for index, found in enumerate(walked):
        if found is None or found.start.key() != state.key():  # walk it here, from the true state
            found = _walk_in_session(session, walk, _Part(parts[index].lo, parts[index].hi, state, state))
            walked[index] = found
        state = found.end
    parts = [part for part in walked if part is not None]
    if progress:
        progress(sum(part.checked for part in parts), total)
    return parts


def verify(
    session: Session,
    chain: str = MAIN_CHAIN,
    from_seq: int = 1,
    progress: Progress | None = None,
    *,
    workers: int = 1,
) -> Report:
    """Verify the chain from ``from_seq`` (anchored on the stored hash of the row before it) to its end,
    and every checkpoint in that range.

    ``workers`` > 1 walks that many ranges at once (child processes opening the session's database
    URL, so they read what is committed) when there are at least PARALLEL_MIN events; the report is
    the same as the sequential walk's."""
    from_seq = max(from_seq, 1)
    head_seq, head_hash = head(session, chain)
    report = Report(chain=chain, from_seq=from_seq, head_seq=head_seq, head_hash=head_hash)
    cps = list(session.scalars(
        select(AuditCheckpoint).where(AuditCheckpoint.chain == chain, AuditCheckpoint.seq >= from_seq)
    ))  # fmt: skip
    walk = _Walk(chain, session.get_bind().dialect.name, head_seq, head_hash, {cp.seq: cp.hash for cp in cps})
    first = _State(from_seq, _anchor(session, chain, from_seq))
    total = max(head_seq - from_seq + 1, 0)
    url = session.get_bind().engine.url
    if workers > 1 and total >= PARALLEL_MIN and url.database not in (None, "", ":memory:"):
        parts = _parallel(
            session, walk, first, workers, url.render_as_string(hide_password=False), progress, total
        )
    else:
        done = 0

        def report_done(count: int) -> None:
            nonlocal done
            done += count
            if progress:
                progress(done, total)

        parts = [_walk_in_session(session, walk, _Part(from_seq, None, first, first), report_done)]
    keys = {k.kid: k.public_key for k in session.scalars(select(AuditSigningKey))}
    for cp in cps:
        report.checkpoints_checked += 1
        if cp.kid not in keys or not verify_signature(keys[cp.kid], cp):
            report.add(cp.seq, "bad_signature", f"第 {cp.seq} 条处的检查点签名无效（密钥 {cp.kid}）")
    for part in parts:
        for problem in part.problems:
            report.add(problem.seq, problem.kind, problem.detail)
        report.events_checked += part.checked
    for part in parts:  # verified up to the last seq before the first break
        if part.verified_to is not None:
            report.verified_to_seq = part.verified_to
        if part.broken:
            break
    last = parts[-1].end.expected - 1
    missing_to = max([report.head_seq, *walk.checkpoints])
    if last < missing_to:
        report.add(last + 1, "deleted", f"缺少第 {last + 1}–{missing_to} 条（链尾被删除）")
    return report


def record_run(session: Session, report: Report) -> None:
    """Keep the result for the chain status page (已核验至), and commit."""
    from govshare.audit.models import AuditVerification

    data = report.to_dict()
    session.add(AuditVerification(
        chain=report.chain, started_at=utcnow(), from_seq=report.from_seq,
        verified_to_seq=report.verified_to_seq, events_checked=report.events_checked,
        checkpoints_checked=report.checkpoints_checked, ok=report.ok, problems=data["problems"][:20],
        summary=summary(report),
    ))  # fmt: skip
    session.commit()


def summary(report: Report) -> str:
    if report.ok:
        return (f"完好：已核验第 {report.from_seq}–{report.verified_to_seq} 条，共 {report.events_checked} 条，"
                f"检查点 {report.checkpoints_checked} 个")  # fmt: skip
    first = report.first_problem
    assert first is not None
    return f"发现 {len(report.problems)} 处问题；首个在第 {first.seq} 条（{first.kind}）：{first.detail}"
