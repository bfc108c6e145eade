"""`govshare data load` on a demo database (SQLite and PostgreSQL), including a process killed mid-load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from govshare.cli import app
from govshare.core.db import make_engine, make_session_factory
from govshare.data.models import Batch, Change, Record
from tests.conftest import cli_demo_db, database_env
from tests.integration.test_data_load import pid

runner = CliRunner()
POPULATION = "101/000001"  # 人口基础信息 in the demo, provided by police_officer's department


demo_db = cli_demo_db("datacli")


@pytest.fixture
def database(demo_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with database_env(monkeypatch, demo_db):
        yield demo_db
    engine = make_engine(demo_db)
    with engine.begin() as conn:  # leave the module's demo database as it was
        for table in (
            "data_search_term",
            "data_search_item",
            "data_change",
            "data_record_history",
            "data_record",
            "data_rejection",
            "data_item_quality",
            "data_batch",
        ):
            conn.exec_driver_sql(f"DELETE FROM {table}")
    engine.dispose()


def write_people(path: Path, n: int, encoding: str = "utf-8", bad_rows: tuple[int, ...] = ()) -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        f.write("公民身份号码,姓名,出生日期\n")
        for i in range(n):
            f.write(f"{'bad' if i in bad_rows else pid(i)},居民{i},1980-01-02\n")
    return path


def counts(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        result = tuple(s.scalar(select(func.count()).select_from(m)) for m in (Record, Change, Batch))
    engine.dispose()
    return result  # type: ignore[return-value]


def test_load_gbk_file_reports_and_is_idempotent(database, tmp_path):
    path = write_people(tmp_path / "people.csv", 50, encoding="gbk")
    first = runner.invoke(app, ["data", "load", POPULATION, str(path), "--as", "police_officer"])
    assert first.exit_code == 0, first.output
    assert "inserted 50" in first.output
    again = runner.invoke(app, ["data", "load", POPULATION, str(path), "--as", "police_officer"])
    assert "此前已加载" in again.output
    assert counts(database)[:2] == (50, 50)


def test_rejected_rows_exit_1_and_write_the_report(database, tmp_path):
    path = write_people(tmp_path / "people.csv", 10, bad_rows=(3, 7))
    report = tmp_path / "rejections.csv"
    result = runner.invoke(
        app, ["data", "load", POPULATION, str(path), "--as", "police_officer", "--report", str(report)]
    )
    assert result.exit_code == 1
    assert "inserted 8" in result.output and "rejected 2" in result.output
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1].startswith("5,公民身份号码,") and lines[2].startswith("9,公民身份号码,")


def test_strict_stores_nothing(database, tmp_path):
    path = write_people(tmp_path / "people.csv", 10, bad_rows=(9,))
    result = runner.invoke(app, ["data", "load", POPULATION, str(path), "--as", "police_officer", "--strict"])
    assert result.exit_code == 1 and "rejected" in result.output
    assert counts(database)[:2] == (0, 0)


def test_only_the_provider_may_load(database, tmp_path):
    path = write_people(tmp_path / "people.csv", 3)
    result = runner.invoke(app, ["data", "load", POPULATION, str(path), "--as", "market_officer"])
    assert result.exit_code == 1 and "not_provider" in result.output


def wait_until_writing(database: str, app_name: str, proc: subprocess.Popen[bytes]) -> None:
    """Until the load has written its first chunks (uncommitted): SQLite's write-ahead log has grown, or
    PostgreSQL shows the process's connection in a COPY. Killing then is mid-load, however fast it is."""
    engine = make_engine(database) if database.startswith("postgresql") else None
    wal = Path(database.removeprefix("sqlite:///") + "-wal")
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the load finished before it could be killed; make the file larger"
            if engine is None:
                if wal.exists() and wal.stat().st_size > 1_000_000:
                    return
            else:
                with engine.connect() as conn:
                    copying = conn.scalar(
                        select(func.count())
                        .select_from(text("pg_stat_activity"))
                        .where(text("application_name = :name AND query LIKE 'COPY data_%'"))
                        .params(name=app_name)
                    )
                if copying:
                    return
            time.sleep(0.02)
        raise AssertionError("the load did not start writing within 120 s")
    finally:
        if engine is not None:
            engine.dispose()


def test_killed_mid_load_leaves_nothing_and_rerun_completes(database, tmp_path):
    path = write_people(tmp_path / "people.csv", 150_000)
    env = os.environ | {"GOVSHARE_DATABASE_URL": database}
    cmd = [
        sys.executable,
        "-m",
        "govshare.cli",
        "data",
        "load",
        POPULATION,
        str(path),
        "--as",
        "police_officer",
    ]
    env["PGAPPNAME"] = app_name = f"govshare-killed-load-{os.getpid()}"
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_until_writing(database, app_name, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert counts(database) == (0, 0, 0)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert counts(database) == (150_000, 150_000, 1)
