"""Benchmark: one group-commit batch of the audit log — ``audit.service.record_many`` (issue 4).

Every data call of the exchange API waits for its audit entry to be durable; the group commit
(``govshare/audit/group_commit.py``) appends the entries that arrive together in one transaction,
and runs the batch's statements on the event loop. What a batch costs the loop is therefore what
every answer pays: this measures it without HTTP, per backend, on a freshly migrated database.

Measured per batch of ``--batch`` entries like a lookup's (operator, case, items, latency), after a
warm-up: the CPU time of this process (``time.process_time``) and the wall time of ``record_many``
until just before the COMMIT (what the loop waits for), and the COMMIT on its own (in the server it
runs in a thread). Medians over ``--batches`` batches, each in its own transaction.

``--before DIR``: also run the same measurement with the ``govshare`` package found in DIR (e.g.
``git archive REV govshare | tar -x -C DIR``), in a child process, alternating with the current code,
so the two are compared in the same run on the same database.

    .venv/bin/python benchmarks/audit_append.py [--backends sqlite,postgresql] [--batch 30]
        [--batches 400] [--rounds 2] [--before DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/govshare_bench_audit_append"


def measure(url: str, batch: int, batches: int) -> dict[str, float]:
    """Medians in ms of (CPU, wall before the COMMIT, COMMIT) for ``batches`` batches of ``batch``."""
    from govshare.audit import service
    from govshare.core.db import make_engine, make_session_factory
    from govshare.core.settings import Settings

    factory = make_session_factory(make_engine(url))
    settings = Settings(database_url=url, secret_key="benchmark-" * 4, audit_checkpoint_every=1000)
    entries = [
        service.checked(
            service.system_entry(
                "lookup", operator=f"窗口{n:02d}", case_id=f"SZ-2026-{n:06d}",
                items=("公民身份号码", "姓名", "户籍地址", "联系电话"), latency_ms=n % 40,
            )
        )
        for n in range(batch)
    ]  # fmt: skip
    cpu, wall, commit = [], [], []
    for n in range(batches + 20):
        session = factory()
        started, started_cpu = time.perf_counter(), time.process_time()
        service.record_many(session, entries, settings, prechecked=True)
        done_cpu, done = time.process_time(), time.perf_counter()
        session.commit()
        committed = time.perf_counter()
        session.close()
        if n >= 20:  # warm-up: statement caches, the first checkpoint key
            cpu.append(done_cpu - started_cpu)
            wall.append(done - started)
            commit.append(committed - done)
    return {
        "cpu_ms": statistics.median(cpu) * 1000,
        "wall_ms": statistics.median(wall) * 1000,
        "commit_ms": statistics.median(commit) * 1000,
    }


def run_child(before: Path, url: str, batch: int, batches: int) -> dict[str, float]:
    """``measure`` with the package in ``before``, in a child process."""
    code = (  # this module puts the checkout first on sys.path; the older package must come first
        "import json, sys; sys.path.insert(0, sys.argv[2]);"
        "from benchmarks.audit_append import measure;"
        "sys.path[:] = [sys.argv[1]] + [p for p in sys.path if p != sys.argv[2]];"
        "import govshare; assert govshare.__file__.startswith(sys.argv[1]), govshare.__file__;"
        "print(json.dumps(measure(sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))))"
    )
    repo = Path(__file__).resolve().parent.parent
    env = os.environ | {"PYTHONPATH": str(before)}
    out = subprocess.run(
        [sys.executable, "-c", code, str(before), str(repo), url, str(batch), str(batches)],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--batch", type=int, default=30, help="entries a batch (default 30)")
    parser.add_argument("--batches", type=int, default=400, help="timed batches a measurement")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds with --before")
    parser.add_argument("--before", type=Path, default=None, help="a directory holding an older govshare")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    args = parser.parse_args()
    if args.before is not None and not (args.before / "govshare").is_dir():
        sys.exit(f"--before {args.before}: no govshare package in it")

    from benchmarks.data_load import prepare

    print(
        f"# batches of {args.batch} entries, medians of {args.batches}; {time.strftime('%Y-%m-%d %H:%M UTC')}"
    )
    print("| backend | code | round | CPU ms a batch | CPU µs an entry | wall ms before COMMIT | COMMIT ms |")
    print("|---|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            url = f"sqlite:///{tmp}/audit-append.db" if backend == "sqlite" else args.postgres_url
            prepare(backend, url)
            for round_ in range(1, args.rounds + 1 if args.before else 2):
                runs: list[tuple[str, Path | None]] = [("current", None)]
                if args.before is not None:
                    runs.append((f"--before {args.before}", args.before))
                for label, before in runs:
                    if before is None:
                        r = measure(url, args.batch, args.batches)
                    else:
                        r = run_child(before, url, args.batch, args.batches)
                    print(
                        f"| {backend} | {label} | {round_} | {r['cpu_ms']:.3f} | "
                        f"{r['cpu_ms'] * 1000 / args.batch:.1f} | {r['wall_ms']:.3f} | {r['commit_ms']:.3f} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
