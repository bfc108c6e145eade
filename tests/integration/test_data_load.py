"""Loading records into a published resource: modes, idempotency, strictness, history, change log."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from govshare.core.errors import Conflict, PermissionDenied, ValidationFailed
from govshare.core.ids import make_resident_id
from govshare.core.types import utcnow
from govshare.data import service as data
from govshare.data.models import Batch, Change, ItemQuality, Record, RecordHistory, Rejection
from tests.factories import publish

COLUMNS = ["公民身份号码", "姓名", "出生日期"]


def pid(n: int) -> str:
    return make_resident_id("440305", date(1980, 1, 1) + timedelta(days=n % 3000), 100 + n // 3000)


def people(*rows: tuple[str, str, str]) -> list[tuple[int, dict[str, str | None]]]:
    return [(n, dict(zip(COLUMNS, r, strict=True))) for n, r in enumerate(rows, start=2)]


@pytest.fixture
def population(session, city):
    return publish(session, city, city.police_officer)


def load(session, city, resource, rows, key, **kw):
    return data.load(session, city.police_officer, resource.code, COLUMNS, rows, batch_key=key, **kw)


def count(session, model, **where) -> int:
    stmt = select(func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return session.scalar(stmt)


def test_first_load_inserts_records_and_logs_each_insert(session, city, population):
    report = load(
        session, city, population, people((pid(1), "张三", "1980-01-02"), (pid(2), "李四", "1980/1/3")), "b1"
    )
    assert (report.rows_read, report.inserted, report.rejected, report.status) == (2, 2, 0, "applied")
    record = data.get_record(session, population, pid(1))
    assert json.loads(record.data) == {"公民身份号码": pid(1), "姓名": "张三", "出生日期": "1980-01-02"}
    assert record.version == 1
    assert [c.op for c in session.scalars(select(Change).order_by(Change.seq))] == ["I", "I"]


def test_same_batch_again_changes_nothing(session, city, population):
    rows = people((pid(1), "张三", "1980-01-02"))
    load(session, city, population, rows, "same")
    again = load(session, city, population, people((pid(1), "王五", "1980-01-02")), "same")
    assert again.already_applied and again.inserted == 1
    assert json.loads(data.get_record(session, population, pid(1)).data)["姓名"] == "张三"
    assert count(session, Change) == 1 and count(session, Batch) == 1


def test_second_load_counts_updated_and_unchanged_and_keeps_history(session, city, population):
    first = load(
        session,
        city,
        population,
        people((pid(1), "张三", "1980-01-02"), (pid(2), "李四", "1980-01-03")),
        "b1",
    )
    report = load(
        session,
        city,
        population,
        people((pid(1), "张叁", "1980-01-02"), (pid(2), "李四", "1980-01-03")),
        "b2",
    )
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
    record = data.get_record(session, population, pid(1))
    assert record.version == 2 and record.batch_id == report.batch_id
    old = session.scalars(select(RecordHistory)).one()
    assert (old.version, old.batch_id, json.loads(old.data)["姓名"]) == (1, first.batch_id, "张三")
    assert [c.op for c in session.scalars(select(Change).order_by(Change.seq))] == ["I", "I", "U"]


def test_record_as_of_a_moment_answers_what_it_said_then(session, city, population):
    load(session, city, population, people((pid(1), "张三", "1980-01-02")), "b1")
    between = utcnow()
    load(session, city, population, people((pid(1), "张叁", "1980-01-02")), "b2")
    assert data.record_as_of(session, population, pid(1), between)["data"]["姓名"] == "张三"
    assert data.record_as_of(session, population, pid(1), utcnow())["data"]["姓名"] == "张叁"
    assert data.record_as_of(session, population, pid(1), between - timedelta(days=1)) is None


def test_replace_deletes_records_absent_from_the_file(session, city, population):
    load(
        session,
        city,
        population,
        people((pid(1), "张三", "1980-01-02"), (pid(2), "李四", "1980-01-03")),
        "b1",
    )
    report = load(session, city, population, people((pid(2), "李四", "1980-01-03")), "b2", mode="replace")
    assert (report.deleted, report.unchanged, report.inserted) == (1, 1, 0)
    assert count(session, Record) == 1
    gone = session.scalars(select(RecordHistory)).one()
    assert gone.deleted and gone.record_key == pid(1)
    assert session.scalars(select(Change.op).order_by(Change.seq.desc())).first() == "D"


def test_delete_mode_removes_listed_keys(session, city, population):
    load(
        session,
        city,
        population,
        people((pid(1), "张三", "1980-01-02"), (pid(2), "李四", "1980-01-03")),
        "b1",
    )
    report = data.load(session, city.police_officer, population.code, ["公民身份号码"],
                       [(2, {"公民身份号码": pid(1)}), (3, {"公民身份号码": pid(9)})], batch_key="d1", mode="delete")  # fmt: skip
    assert (report.deleted, report.unchanged) == (1, 1)
    assert [r.record_key for r in session.scalars(select(Record))] == [pid(2)]


def test_invalid_rows_are_rejected_one_by_one_and_the_rest_stored(session, city, population):
    bad_check = pid(3)[:-1] + ("0" if pid(3)[-1] != "0" else "1")
    report = load(session, city, population, people(
        (pid(1), "张三", "1980-01-02"), (bad_check, "王五", "1980-01-02"), (pid(4), "赵六", "2024-02-30"),
    ), "b1")  # fmt: skip
    assert (report.inserted, report.rejected) == (1, 2)
    found = {(r["row"], r["column"], r["code"]) for r in report.rejections}
    assert (3, "公民身份号码", "invalid_check_character") in found
    assert (4, "出生日期", "nonexistent_date") in found
    assert count(session, Rejection) == 2


def test_strict_mode_stores_nothing_when_any_row_is_invalid(session, city, population):
    report = load(session, city, population, people((pid(1), "张三", "1980-01-02"), (pid(2), "李四", "不是日期")),
                  "s1", strict=True)  # fmt: skip
    assert report.status == "rejected" and report.inserted == 0 and report.rejected == 1
    assert count(session, Record) == 0 and count(session, Change) == 0
    assert count(session, Rejection) == 1
    fixed = load(session, city, population, people((pid(1), "张三", "1980-01-02"), (pid(2), "李四", "1980-01-03")),
                 "s2", strict=True)  # fmt: skip
    assert fixed.status == "applied" and fixed.inserted == 2


def test_duplicate_keys_in_one_batch_are_rejected_and_counted(session, city, population):
    rows = [(pid(1), "张三", "1980-01-02")] * 2 + [(pid(2), "李四", "1980-01-03")]
    report = load(session, city, population, people(*rows), "b1")
    assert (report.inserted, report.rejected, report.duplicate_keys) == (2, 1, 1)
    assert report.rejections[0]["code"] == "duplicate_key" and report.rejections[0]["row"] == 3


def test_lower_case_x_and_full_width_digits_are_normalised(session, city, population):
    with_x = next(pid(n) for n in range(200) if pid(n).endswith("X"))
    raw = with_x[:-1].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "x"
    load(session, city, population, people((raw, " 张三 ", "1980年1月2日")), "b1")
    record = data.get_record(session, population, with_x)
    assert json.loads(record.data)["姓名"] == "张三"
    assert json.loads(record.data)["出生日期"] == "1980-01-02"


def test_a_failure_mid_load_leaves_nothing_and_rerunning_completes(session, city, population):
    rows = people(*[(pid(n), f"人{n}", "1980-01-02") for n in range(5000)])

    def crash(done: int) -> None:
        if done >= 2000:
            raise KeyboardInterrupt

    raw = session.connection().connection.dbapi_connection  # the connection the load will use
    sqlite = session.bind.dialect.name == "sqlite"
    cache = raw.execute("PRAGMA cache_size").fetchone()[0] if sqlite else None
    with pytest.raises(KeyboardInterrupt):
        load(session, city, population, rows, "big", progress=crash)
    session.rollback()
    if sqlite:  # the load's 128 MB page cache is given back with the connection
        assert raw.execute("PRAGMA cache_size").fetchone()[0] == cache
    assert count(session, Record) == 0 and count(session, Batch) == 0 and count(session, Change) == 0
    report = load(session, city, population, rows, "big")
    assert report.inserted == 5000 and count(session, Change) == 5000


def test_quality_counts_completeness_and_validity_per_item(session, city, population):
    report = load(session, city, population, people(
        (pid(1), "张三", "1980-01-02"), (pid(2), "", "1980-01-03"), (pid(3), "王五", "bad"),
    ), "q1")  # fmt: skip
    quality = {q.item_name: (q.total, q.non_empty, q.valid)
               for q in session.scalars(select(ItemQuality).where(ItemQuality.batch_id == report.batch_id))}  # fmt: skip
    assert quality["姓名"] == (3, 2, 2)
    assert quality["出生日期"] == (3, 3, 2)


def test_only_the_provider_loads_and_only_into_published_resources(session, city, population):
    with pytest.raises(PermissionDenied):
        data.load(session, city.market_officer, population.code, COLUMNS, [], batch_key="x")
    from govshare.catalog import service as catalog
    from tests.factories import resource_in

    draft = catalog.create_resource(session, city.police_officer, resource_in(name="草稿资源"))
    with pytest.raises(Conflict) as err:
        data.load(session, city.police_officer, draft.code, COLUMNS, [], batch_key="x")
    assert err.value.code == "resource_not_published"


def test_unknown_columns_are_refused_and_mapping_renames_them(session, city, population):
    with pytest.raises(ValidationFailed) as err:
        data.load(session, city.police_officer, population.code, ["身份证号", "姓名"], [], batch_key="m")
    assert err.value.code == "unknown_columns"
    report = data.load(session, city.police_officer, population.code, ["身份证号", "姓名", "备注"],
                       [(2, {"身份证号": pid(1), "姓名": "张三", "备注": "x"})], batch_key="m",
                       mapping={"身份证号": "公民身份号码", "备注": "-"})  # fmt: skip
    assert report.inserted == 1


@pytest.mark.parametrize("filter_bits", [None, 8], ids=["seen-filter", "seen-filter-saturated"])
def test_chunked_loads_keep_records_history_and_change_log_consistent(
    session, city, population, monkeypatch, filter_bits
):
    """Many chunks per batch (inserts, updates, unchanged, deletions, a duplicate across chunks), values
    with the characters COPY and JSON escape: every table the loader writes agrees with the others and
    only names batches and resources that exist (they carry no foreign keys, see data.models). With an
    8-bit seen filter nearly every key is a "maybe seen" and is looked up in the database."""
    from govshare.catalog.models import Resource
    from govshare.data import ingest

    monkeypatch.setattr(ingest, "CHUNK", 3)
    if filter_bits:
        monkeypatch.setattr(ingest.SeenFilter, "BITS", filter_bits)
    awkward = 'A\\B\t"C"\nD'  # backslash, tab, quote, newline (inside: the ends are trimmed)
    rows = people(*[(pid(n), f"名{n}", "1980-01-02") for n in range(10)], (pid(4), "重复", "1980-01-02"))
    first = load(session, city, population, rows, "c1")
    assert (first.inserted, first.duplicate_keys) == (10, 1)
    second = load(
        session,
        city,
        population,
        people(*[(pid(n), awkward if n % 2 else f"名{n}", "1980-01-02") for n in range(3, 14)]),
        "c2",
        mode="replace",
    )
    assert (second.inserted, second.updated, second.unchanged, second.deleted) == (4, 4, 3, 3)
    assert json.loads(data.get_record(session, population, pid(5)).data)["姓名"] == awkward
    records = {r.record_key: r for r in session.scalars(select(Record))}
    assert set(records) == {pid(n) for n in range(3, 14)}
    changes = list(session.scalars(select(Change).order_by(Change.seq)))
    assert sorted((c.record_key, c.version) for c in changes if c.op != "D") == sorted(
        [(pid(n), 1) for n in range(14)] + [(pid(n), 2) for n in (3, 5, 7, 9)]
    )
    for key, record in records.items():  # the last change of each live record is its current version
        assert [c.version for c in changes if c.record_key == key][-1] == record.version
    history = list(session.scalars(select(RecordHistory)))
    assert sorted((h.record_key, h.deleted) for h in history) == sorted(
        [(pid(n), True) for n in range(3)] + [(pid(n), False) for n in (3, 5, 7, 9)]
    )
    batches = set(session.scalars(select(Batch.id)))
    resources = set(session.scalars(select(Resource.id)))
    for row in [*records.values(), *changes, *history]:
        assert row.batch_id in batches and row.resource_id in resources
    assert {h.ended_by_batch_id for h in history} <= batches
