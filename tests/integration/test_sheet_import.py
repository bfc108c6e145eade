"""Bulk registration from a catalog sheet (批量登记) on SQLite and PostgreSQL: all or nothing, row-level report."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from govshare.catalog import search, service, sheet_import
from govshare.catalog.models import (
    CodeSequence,
    Item,
    NegativeListEntry,
    Resource,
    ResourceVersion,
    SearchTerm,
)
from govshare.core.errors import PermissionDenied, ValidationFailed
from tests.conftest import make_test_settings
from tests.factories import dept_code, resource_in

COLUMNS = ["信息资源分类", "信息资源名称", "信息资源摘要", "信息资源提供方代码", "共享类型", "共享条件", "共享方式",
           "不予共享依据", "主体标识类型", "关联资源代码", "信息项名称", "数据类型", "是否主键"]  # fmt: skip
LIMIT = 10 * 1024 * 1024


def row(name: str = "", item: str = "", **cells: str) -> dict[str, str]:
    """One sheet row; a resource row gets sensible defaults, an item row (no name) only its item cells."""
    values = {"信息资源名称": name, "信息项名称": item, "数据类型": "C"}
    if name:
        values |= {"信息资源分类": "101", "信息资源摘要": f"{name}的摘要", "共享类型": "01", "共享条件": "无条件",
                   "共享方式": "联机查询"}  # fmt: skip
    return values | cells


def sheet_csv(*rows: dict[str, str], encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for cells in rows:
        writer.writerow([cells.get(c, "") for c in COLUMNS])
    return out.getvalue().encode(encoding)


def stored(session) -> tuple[int, ...]:
    """Everything an import writes, so a test can prove that nothing was written."""
    models = (Resource, Item, SearchTerm, ResourceVersion, NegativeListEntry)
    counts = tuple(session.scalar(select(func.count()).select_from(m)) for m in models)
    return (*counts, session.scalar(select(func.coalesce(func.sum(CodeSequence.last_value), 0))))


def problems(err: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[int, str, str]]:
    return [(e["row"], e["column"], e["code"]) for e in err.value.details["errors"]]


def test_valid_sheet_registers_every_resource_as_a_draft_with_its_items(session, city):
    content = sheet_csv(
        row(
            "人口基础信息",
            "公民身份号码",
            信息资源提供方代码=city.police.code,
            主体标识类型="公民身份号码",
            是否主键="是",
        ),
        row(item="姓名"),
        row(
            "企业登记基本信息",
            "统一社会信用代码",
            信息资源分类="102",
            信息资源提供方代码=city.market.code,
            是否主键="是",
        ),
        row(item="企业名称"),
        row(item="注册资本", 数据类型="货币型"),
        row(
            "涉密人员信息",
            "公民身份号码",
            信息资源提供方代码=city.police.code,
            共享类型="不予共享",
            共享条件="",
            共享方式="",
            不予共享依据="《中华人民共和国保守国家秘密法》第九条",
        ),  # fmt: skip
    )
    result = sheet_import.import_sheet(session, city.admin, content, "catalog.csv", max_bytes=LIMIT)
    assert result.codes == ["101/000001", "102/000001", "101/000002"]
    assert (result.resources, result.items, result.dry_run) == (3, 6, False)
    population = service.get_resource(session, "101/000001")
    assert population.status == "draft"
    assert population.provider.code == city.police.code
    assert [(i.name, i.is_key) for i in population.items] == [("公民身份号码", True), ("姓名", False)]
    assert [i.data_type for i in service.get_resource(session, "102/000001").items] == ["C", "C", "Y"]
    negative = session.scalars(select(NegativeListEntry)).all()
    assert [(e.resource.code, e.item_name) for e in negative] == [("101/000002", None)]
    found = search.search(session, "企业登记", search.Filters(status=None))
    assert [r.code for r in found.resources] == ["102/000001"]


def test_sheet_with_bad_rows_stores_nothing_and_reports_each_row(session, city):
    malformed = dept_code(5)[:-1] + ("0" if dept_code(5)[-1] != "0" else "1")
    content = sheet_csv(
        row("人口基础信息", "公民身份号码", 信息资源提供方代码=city.police.code),  # valid: rolled back too
        row(item="姓名"),
        row("长" * 51, "字段"),
        row("婚姻登记信息", "婚姻状况", 数据类型="Z"),
        row("涉密档案信息", "档案号", 共享类型="03", 共享条件="", 共享方式=""),
        row("不存在部门的资源", "字段", 信息资源提供方代码=dept_code(99)),
        row("代码有误的资源", "字段", 信息资源提供方代码=malformed),
        row("人口基础信息", "公民身份号码", 信息资源提供方代码=city.police.code),
    )
    before = stored(session)
    with pytest.raises(ValidationFailed) as err:
        sheet_import.import_sheet(session, city.admin, content, "catalog.csv", max_bytes=LIMIT)
    assert err.value.code == "sheet_invalid"
    assert problems(err) == [
        (4, "信息资源名称", "name_too_long"),
        (5, "数据类型", "invalid_data_type"),
        (6, "不予共享依据", "legal_basis_required"),
        (7, "信息资源提供方代码", "department_not_found"),
        (8, "信息资源提供方代码", "invalid_credit_code"),
        (9, "信息资源名称", "duplicate_resource"),
    ]
    assert "第 4 行" in err.value.message
    assert stored(session) == before
    assert service.create_resource(session, city.police_officer, resource_in()).code == "101/000001"


def test_name_already_registered_by_the_same_provider_is_a_duplicate(session, city):
    existing = service.create_resource(session, city.police_officer, resource_in(name="人口基础信息"))
    content = sheet_csv(row("人口基础信息", "公民身份号码"))
    with pytest.raises(ValidationFailed) as err:
        sheet_import.import_sheet(session, city.police_officer, content, "a.csv", max_bytes=LIMIT)
    assert problems(err) == [(2, "信息资源名称", "duplicate_resource")]
    assert existing.code in err.value.details["errors"][0]["message"]
    # Another department may register a resource of the same name.
    sheet_import.import_sheet(session, city.market_officer, content, "a.csv", max_bytes=LIMIT)


def test_data_officer_cannot_register_for_another_department(session, city):
    content = sheet_csv(
        row("人口基础信息", "公民身份号码"),
        row("企业登记基本信息", "统一社会信用代码", 信息资源提供方代码=city.market.code),
    )
    before = stored(session)
    with pytest.raises(ValidationFailed) as err:
        sheet_import.import_sheet(session, city.police_officer, content, "a.csv", max_bytes=LIMIT)
    assert problems(err) == [(3, "信息资源提供方代码", "other_department")]
    assert stored(session) == before


def test_clerk_may_not_import_at_all(session, city):
    with pytest.raises(PermissionDenied) as err:
        sheet_import.import_sheet(
            session, city.clerk, sheet_csv(row("人口", "姓名")), "a.csv", max_bytes=LIMIT
        )
    assert err.value.code == "role_not_allowed"


def test_unknown_related_resource_is_reported_at_its_row(session, city):
    content = sheet_csv(
        row("人口基础信息", "公民身份号码"), row("户籍信息", "户号", 关联资源代码="101/000999")
    )
    with pytest.raises(ValidationFailed) as err:
        sheet_import.import_sheet(session, city.police_officer, content, "a.csv", max_bytes=LIMIT)
    assert problems(err) == [(3, "关联资源代码", "unknown_related_resource")]


def test_dry_run_checks_everything_and_stores_nothing(session, city):
    before = stored(session)
    content = sheet_csv(row("人口基础信息", "公民身份号码"), row("户籍信息", "户号"))
    result = sheet_import.import_sheet(
        session, city.police_officer, content, "a.csv", max_bytes=LIMIT, dry_run=True
    )
    assert result.codes == ["101/000001", "101/000002"] and result.dry_run
    assert stored(session) == before


def test_failure_in_the_middle_of_writing_rolls_back_the_whole_sheet(session, city, monkeypatch):
    calls = []
    original = search.index_resource

    def index_then_fail(s, resource):
        calls.append(resource.name)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        original(s, resource)

    monkeypatch.setattr(search, "index_resource", index_then_fail)
    before = stored(session)
    content = sheet_csv(row("人口基础信息", "公民身份号码"), row("户籍信息", "户号"))
    with pytest.raises(RuntimeError):
        sheet_import.import_sheet(session, city.police_officer, content, "a.csv", max_bytes=LIMIT)
    assert stored(session) == before


def test_gb18030_sheet_registers_the_same_as_utf8(session, city):
    content = sheet_csv(row("人口基础信息", "公民身份号码"), row(item="姓名"), encoding="gb18030")
    result = sheet_import.import_sheet(session, city.police_officer, content, "目录.csv", max_bytes=LIMIT)
    assert [i.name for i in service.get_resource(session, result.codes[0]).items] == ["公民身份号码", "姓名"]


# -- HTTP ------------------------------------------------------------------------------------------


def upload(client: TestClient, content: bytes, headers: dict[str, str], name: str = "catalog.csv", **params):
    return client.post(
        "/api/v1/catalog/import", files={"file": (name, content)}, headers=headers, params=params
    )


def test_api_import_answers_201_with_the_created_codes(client, city, session):
    content = sheet_csv(row("人口基础信息", "公民身份号码"), row(item="姓名"))
    answer = upload(client, content, city.headers("police_officer"))
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"created": ["101/000001"], "resources": 1, "items": 2, "dry_run": False}
    assert service.get_resource(session, "101/000001").name == "人口基础信息"


def test_api_dry_run_answers_200_and_stores_nothing(client, city, session):
    before = stored(session)
    answer = upload(
        client, sheet_csv(row("人口基础信息", "公民身份号码")), city.headers("police_officer"), dry_run=True
    )
    assert answer.status_code == 200
    assert answer.json()["dry_run"] is True
    assert stored(session) == before


def test_api_invalid_sheet_answers_422_with_the_row_level_report(client, city, session):
    before = stored(session)
    content = sheet_csv(row("人口基础信息", "公民身份号码"), row("婚姻登记信息", "婚姻状况", 数据类型="Z"))
    answer = upload(client, content, city.headers("police_officer"))
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "sheet_invalid"
    assert error["details"]["errors"] == [
        {
            "row": 3,
            "column": "数据类型",
            "code": "invalid_data_type",
            "message": error["details"]["errors"][0]["message"],
        }
    ]
    assert "Z" in error["details"]["errors"][0]["message"]
    assert stored(session) == before


def test_api_oversized_upload_answers_413(session, city):
    from govshare.web.app import create_app

    settings = make_test_settings(max_upload_bytes=1024)
    with TestClient(create_app(settings, session_factory=session.info["factory"])) as client:
        answer = upload(
            client, sheet_csv(*[row(f"资源{n}", "字段") for n in range(40)]), city.headers("admin")
        )
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payload_too_large"
    assert answer.json()["error"]["details"] == {"limit_bytes": 1024}


def test_api_wrong_encoding_answers_422_naming_the_line(client, city):
    content = sheet_csv(row("人口基础信息", "公民身份号码")) + "101,户籍信息".encode("utf-16-le") + b"\xff\n"
    answer = upload(client, content, city.headers("police_officer"))
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_encoding"
    assert "第 3 行" in error["message"]
    assert error["details"]["errors"][0]["row"] == 3


def test_api_import_needs_a_signed_in_user(client):
    answer = upload(client, sheet_csv(row("人口基础信息", "公民身份号码")), {})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_templates_download_and_import_cleanly(client, city, suffix):
    answer = client.get(f"/api/v1/catalog/import/template.{suffix}")
    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    created = upload(client, answer.content, city.headers("market_officer"), name=f"template.{suffix}")
    assert created.status_code == 201, created.text
    assert created.json()["created"] == ["102/000001"]
