"""Benchmark: validating population rows (govshare.data.normalize) with and without reading a CSV.

Generates population rows — 公民身份号码 (key, built with govshare.core.ids.make_resident_id), 姓名, 性别,
出生日期, 民族, 住址, 联系电话, 户籍地行政区划代码 — of which about 1% carry what real exports carry
(full-width digits, a lower-case x, 2024/5/1 dates, stray spaces) and 0.1% a wrong check character.
Then, in one thread (so on one core), it measures rows per second for:

* normalise only: compile_row_normaliser over --memory-rows rows already in memory;
* csv.reader alone (the baseline): csv.reader over the --rows-row file, building nothing;
* read only: govshare.data.readers.open_source over the same file (decoding, row dicts);
* read + normalise: open_source and the row normaliser, the database-free half of a load;
  the difference from "read only" is what checking costs when rows arrive one by one.

Each figure is the best of --repeat runs, taken in turn, so a busy neighbour on the machine slows
one run rather than one measurement.

    .venv/bin/python benchmarks/normalize_throughput.py [--rows 1000000] [--encoding utf-8|gb18030] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import os
import platform
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from govshare.core.ids import make_resident_id  # noqa: E402
from govshare.data.normalize import compile_row_normaliser  # noqa: E402
from govshare.data.readers import open_source  # noqa: E402

ITEMS = [
    SimpleNamespace(name="公民身份号码", data_type="C", length=18, is_key=True, required=True),
    SimpleNamespace(name="姓名", data_type="C", length=50, is_key=False, required=True),
    SimpleNamespace(name="性别", data_type="C", length=2, is_key=False, required=False),
    SimpleNamespace(name="出生日期", data_type="D", length=None, is_key=False, required=False),
    SimpleNamespace(name="民族", data_type="C", length=20, is_key=False, required=False),
    SimpleNamespace(name="住址", data_type="C", length=200, is_key=False, required=False),
    SimpleNamespace(name="联系电话", data_type="C", length=20, is_key=False, required=False),
    SimpleNamespace(name="户籍地行政区划代码", data_type="C", length=6, is_key=False, required=False),
]
COLUMNS = [i.name for i in ITEMS]
DISTRICTS = {"440303": "罗湖区", "440304": "福田区", "440305": "南山区", "440306": "宝安区", "440307": "龙岗区",
             "440308": "盐田区", "440309": "龙华区", "440310": "坪山区", "440311": "光明区"}  # fmt: skip
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏浩宇子轩梓涵一诺欣怡"
ETHNICITIES = ["汉族"] * 95 + ["壮族", "回族", "满族", "苗族", "土家族"]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def population_rows(count: int, seed: int = 2016) -> Iterator[list[str]]:
    rng = random.Random(seed)
    start = dt.date(1930, 1, 1)
    divisions = list(DISTRICTS)
    for n in range(count):
        division = rng.choice(divisions)
        born = start + dt.timedelta(days=rng.randrange(33_000))
        sequence = rng.randrange(1000)
        person_id = make_resident_id(division, born, sequence)
        birth = born.isoformat()
        phone = f"13{rng.randrange(10**9):09d}"
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        address = f"广东省深圳市{DISTRICTS[division]}{rng.choice('科技园学府桃园沙河西丽')}路{rng.randrange(1, 999)}号{rng.randrange(1, 30)}栋{rng.randrange(101, 3305)}室"
        roll = n % 1000
        if roll < 3:
            phone = phone.translate(FULL_WIDTH)
        elif roll < 6:
            birth = f"{born.year}/{born.month}/{born.day}"
        elif roll < 8:
            person_id = person_id.lower() if person_id.endswith("X") else f" {person_id} "
        elif roll < 10:
            name = f" {name}　"
        elif roll == 10:
            person_id = person_id[:17] + ("0" if person_id[17] != "0" else "1")
        yield [
            person_id,
            name,
            "男" if sequence % 2 else "女",
            birth,
            rng.choice(ETHNICITIES),
            address,
            phone,
            division,
        ]


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:>12,.0f} rows/s  ({seconds:6.2f} s for {rows:,} rows)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="rows in the CSV file (default 1,000,000)"
    )
    parser.add_argument("--memory-rows", type=int, default=100_000, help="distinct rows for normalise-only")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best counts")
    parser.add_argument("--encoding", default="utf-8", help="encoding of the generated CSV (utf-8, gb18030)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one normalise-only pass")
    args = parser.parse_args()
    print(f"# {platform.python_implementation()} {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, one thread, load average {os.getloadavg()[0]:.2f}")  # fmt: skip

    normalise = compile_row_normaliser(ITEMS, "person_id")
    _in_memory(normalise, args.memory_rows, args.repeat, args.profile)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "population.csv"
        started = time.perf_counter()
        with path.open("w", encoding=args.encoding, newline="") as f:
            writer = csv.writer(f)
            writer.writerow(COLUMNS)
            writer.writerows(population_rows(args.rows))
        size = path.stat().st_size
        print(
            f"# wrote {args.rows:,} rows, {size / 1e6:.0f} MB {args.encoding} in {time.perf_counter() - started:.0f} s"
        )

        runs: dict[str, list[float]] = {"csv.reader alone": [], "read only": [], "read + normalise": []}
        for _ in range(args.repeat):
            runs["csv.reader alone"].append(_timed(lambda: _csv_reader(path, args.encoding)))
            runs["read only"].append(_timed(lambda: _read(path)))
            runs["read + normalise"].append(_timed(lambda: _read_and_normalise(path, normalise)))
        for label, seconds in runs.items():
            note = "  (baseline)" if label == "csv.reader alone" else ""
            print(f"{label:<18} {rate(args.rows, min(seconds))}{note}")
        checking = min(runs["read + normalise"]) - min(runs["read only"])
        print(
            f"normalise in the stream (read + normalise minus read only): {args.rows / checking:,.0f} rows/s"
        )
        print(f"# load average {os.getloadavg()[0]:.2f} at the end")


def _in_memory(normalise: Any, count: int, repeat: int, profile: bool) -> None:
    rows = [dict(zip(COLUMNS, r, strict=True)) for r in population_rows(count)]
    best = min(_timed(lambda: _normalise_all(normalise, rows)) for _ in range(repeat))
    problems = _normalise_all(normalise, rows)
    print(f"normalise only     {rate(len(rows), best)}; {problems:,} rows with problems")
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(_normalise_all, normalise, rows)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _normalise_all(normalise: Any, rows: list[dict[str, str]]) -> int:
    bad = 0
    for row in rows:
        if normalise(row)[1]:
            bad += 1
    return bad


def _csv_reader(path: Path, encoding: str) -> int:
    count = 0
    with path.open(encoding=encoding, newline="") as f:
        for _ in csv.reader(f):
            count += 1
    return count


def _read(path: Path) -> int:
    count = 0
    with open_source(path) as source:
        for _ in source:
            count += 1
    return count


def _read_and_normalise(path: Path, normalise: Any) -> int:
    bad = 0
    with open_source(path) as source:
        for _, row in source:
            if normalise(row)[1]:
                bad += 1
    return bad


if __name__ == "__main__":
    main()
