"""The walk of the verification over one range of seqs, and consecutive ranges walked in parallel.

``walk_part`` checks every row of a range (its seq, its hash, its link to the row before, the chain
head, the checkpoints) from the state the walk arrives in, batch by batch: a batch that is intact as a
whole is checked with a few list comparisons, any other is walked row by row over its full rows.
``parallel`` walks consecutive ranges in child processes at once with the same result as one walk.
"""

from __future__ import annotations

import gc
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from govshare.audit import verify_sqlite
from govshare.audit.models import GENESIS_HASH
from govshare.audit.verify_rows import _PREV, _SEQ, Batch, Row, python_batches, row_hasher, select_sql

MAX_PROBLEMS = 100
Progress = Callable[[int, int], None]  # (events checked, events to check)


@dataclass(frozen=True)
class Problem:
    seq: int
    kind: str  # deleted / modified / replaced / inserted / checkpoint_mismatch / bad_signature
    detail: str


@dataclass
class State:
    """What the walk carries from one row to the next."""

    expected: int  # the seq the next row should have
    prev_hash: str  # the stored hash of the row before
    prev_intact: bool = True  # whether that row hashed correctly (a link break then names that row)
    shifted: bool = False  # inside a run of rows displaced by an insertion (reported once)
    beyond: bool = False  # inside the run of rows past the chain head (reported once)

    def key(self) -> tuple[int, str, bool, bool, bool]:
        return (self.expected, self.prev_hash, self.prev_intact, self.shifted, self.beyond)


@dataclass
class Part:
    """The walk over one range of seqs from a given state: what it found and the state it ends in."""

    lo: int
    hi: int | None
    start: State
    end: State
    problems: list[Problem] = field(default_factory=list)
    checked: int = 0
    verified_to: int | None = None  # the last seq before the range's first break
    broken: bool = False


@dataclass(frozen=True)
class Walk:
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


def walk_part(conn: Any, walk: Walk, part: Part, done: Callable[[int], None] | None = None) -> Part:
    """Walk ``part`` on the DB-API connection ``conn`` (inside its transaction: the walk sees what it sees).

    SQLite reads through ``verify_sqlite``; should SQLite refuse a row's JSON there (a BLOB a forger
    stored), the range is walked again from its start by the exact reader."""
    row_hash = row_hasher(walk.dialect)
    start = part.start
    with _no_gc():
        if walk.dialect == "sqlite":
            try:
                batches = verify_sqlite.batches(conn, walk.chain, part.lo, part.hi, row_hash)
                return _walk_batches(batches, walk, part, done)
            except verify_sqlite.FastPathFailed:
                part = Part(part.lo, part.hi, start, start)
        batches = python_batches(conn, walk.dialect, walk.chain, part.lo, part.hi, row_hash)
        return _walk_batches(batches, walk, part, done)


def _walk_batches(
    batches: Iterator[Batch], walk: Walk, part: Part, done: Callable[[int], None] | None = None
) -> Part:
    """Check every row: its seq, its hash, its link to the row before, the chain head, the checkpoints."""
    row_hash = row_hasher(walk.dialect)
    head_seq, head_hash, checkpoints = walk.head_seq, walk.head_hash, walk.checkpoints
    state = State(**asdict(part.start))
    expected, prev_hash, prev_intact = state.expected, state.prev_hash, state.prev_intact
    shifted, beyond, broken = state.shifted, state.beyond, False
    problems = part.problems

    def add(seq: int, kind: str, detail: str) -> None:
        if len(problems) < MAX_PROBLEMS:
            problems.append(Problem(seq, kind, detail))

    cp_seqs = sorted(checkpoints)
    rows: list[Row]
    hashes: list[str]
    for batch in batches:
        seqs, stored_hashes = batch.seqs, batch.stored
        first, last, count = seqs[0], seqs[-1], len(seqs)
        if (  # the whole batch in order, as the per-row checks below would find it: nothing to report
            batch.hashes == stored_hashes
            and first == expected
            and seqs == list(range(first, first + count))
            and (last < head_seq or (last == head_seq and stored_hashes[-1] == head_hash))
            and batch.prevs == [prev_hash, *stored_hashes[:-1]]
            and all(
                checkpoints[cp] == stored_hashes[cp - first]
                for cp in cp_seqs[bisect_left(cp_seqs, first) : bisect_right(cp_seqs, last)]
            )
        ):
            if not broken:
                part.verified_to = last
            prev_intact, prev_hash, expected = True, stored_hashes[-1], last + 1
            rows, hashes = [], []
        else:
            rows, hashes = batch.rows()
        for row, computed in zip(rows, hashes, strict=True):
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
        part.checked += count
        if done:
            done(count)
    part.broken = broken
    part.end = State(expected, prev_hash, prev_intact, shifted, beyond)
    return part


def assumed_start(conn: Any, walk: Walk, lo: int) -> State:
    """The state a walk reaching ``lo`` is in when nothing near lo was tampered with, read from the last
    row before lo. Checked against the true state once the range before is walked (see ``parallel``)."""
    sql, params = select_sql(walk.dialect, lo, None, before=True)
    cursor = conn.cursor()
    try:
        cursor.execute(sql, (walk.chain, *params))
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row is None:
        return State(lo, GENESIS_HASH)
    row_hash, seq, stored = row_hasher(walk.dialect), row[_SEQ], row[-1]
    intact = row_hash(row) == stored
    displaced = not intact and row_hash(row, seq - 1) == stored
    return State(seq + 1, stored, intact, displaced, seq > walk.head_seq)


def _import_snapshot(conn: Any, snapshot: str) -> None:
    """Make the psycopg connection's next transaction read PostgreSQL's exported snapshot ``snapshot``."""
    import psycopg
    from psycopg import sql

    conn.rollback()
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))


def _worker(
    url: str, walk: Walk, part: Part, snapshot: str | None, assume: bool, counter: Any, results: Any
) -> None:
    """A child process: walk one range on a connection of its own (PostgreSQL: in the parent's snapshot
    when it exported one); put the part (or None) on results."""
    from govshare.core.db import make_engine

    try:
        engine = make_engine(url)
        raw = engine.raw_connection()
        try:
            conn = raw.driver_connection
            if snapshot is not None:
                _import_snapshot(conn, snapshot)
            if assume:
                part.start = assumed_start(conn, walk, part.lo)

            def done(count: int) -> None:
                with counter.get_lock():
                    counter.value += count

            part = walk_part(conn, walk, part, done)
        finally:
            raw.close()
            engine.dispose()
        results.put(part)
    except Exception:  # the parent walks this range itself
        results.put(None)
        raise


def ranges(from_seq: int, head_seq: int, count: int) -> list[tuple[int, int | None]]:
    """``count`` consecutive seq ranges from from_seq; the last one has no upper bound (rows past the head)."""
    size = max((head_seq - from_seq + 1) // count, 1)
    bounds = [from_seq + i * size for i in range(count)]
    return [(lo, bounds[i + 1] - 1 if i + 1 < count else None) for i, lo in enumerate(bounds)]


def parallel(
    conn: Any,
    walk: Walk,
    first: State,
    workers: int,
    url: str,
    snapshot: str | None,
    progress: Progress | None,
    total: int,
) -> list[Part]:
    """Walk ``workers`` ranges at once: ``workers - 1`` child processes on connections of their own, and
    this process the last range (the one that reaches past the head) on ``conn``, the connection of the
    verification's reads, so the rows it compares with the head are the ones of the head's snapshot.
    On PostgreSQL the children read ``snapshot`` (exported from conn's transaction) when given; rows up
    to the head never change, so on SQLite each child's own snapshot holds the same rows.

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
    if walk.dialect == "sqlite":
        verify_sqlite.supported(conn)  # probed once, here, for the children too
    spans = ranges(first.expected, walk.head_seq, workers)
    parts = [Part(lo, hi, first, first) for lo, hi in spans]
    counters = [context.Value("q", 0) for _ in parts[:-1]]
    children = []
    for index, (part, counter) in enumerate(zip(parts[:-1], counters, strict=True)):
        child = context.Process(  # type: ignore[attr-defined]
            target=_worker, args=(url, walk, part, snapshot, index > 0, counter, results), daemon=True
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
    last.start = assumed_start(conn, walk, last.lo) if len(parts) > 1 else first
    last = walk_part(conn, walk, last, report)
    done: dict[int, Part] = {}  # by lo; a child that failed sends None and its range is walked below
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
            found = walk_part(conn, walk, Part(parts[index].lo, parts[index].hi, state, state))
            walked[index] = found
        state = found.end
    parts = [part for part in walked if part is not None]
    if progress:
        progress(sum(part.checked for part in parts), total)
    return parts
