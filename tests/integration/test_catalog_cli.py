"""`govshare catalog …` through Typer's CliRunner, on a migrated demo database of each backend.

The CLI commits for real, so each backend gets a database of its own (a SQLite file; PostgreSQL
``<test database>_cli``), loaded once with the demo city. Tests that import create their own
entries and never change the demo's.
"""

from __future__ import annotations

import csv
import inspect
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.namespace import DCAT, RDF
from typer.testing import CliRunner

from govshare.catalog import cli as catalog_cli
from govshare.catalog import sheet, sheet_template
from govshare.cli import app
from govshare.core.settings import get_settings
from govshare.demo.seed import department_code
from tests.conftest import cli_demo_db, database_env

runner = CliRunner()


demo_db = cli_demo_db("cli")


@pytest.fixture(autouse=True)
def database(demo_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point GOVSHARE_DATABASE_URL at the demo database; settings are cached, so re-read them."""
    with database_env(monkeypatch, demo_db):
        yield demo_db


def govshare(*args: str | Path):
    result = runner.invoke(app, ["catalog", *map(str, args)])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def published_count() -> int:
    return len(json.loads(govshare("list", "--status", "published", "--json").stdout))


@pytest.mark.parametrize("command", catalog_cli.app.registered_commands, ids=lambda c: c.name)
def test_every_command_explains_itself_in_chinese_then_english(command):
    paragraphs = inspect.getdoc(command.callback).split("\n\n")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in paragraphs[0])
    assert paragraphs[-1].isascii()
    result = govshare(command.name, "--help")
    assert result.exit_code == 0
    assert paragraphs[0] in result.stdout


def test_list_prints_a_table_of_every_resource():
    result = govshare("list")
    assert result.exit_code == 0
    assert "101/000001" in result.stdout and "人口基础信息" in result.stdout
    assert "草稿" in result.stdout and "已发布" in result.stdout  # every status by default


def test_list_filters_by_provider_status_and_classification():
    police = department_code("police")
    rows = json.loads(govshare("list", "--provider", police, "--status", "published", "--json").stdout)
    assert rows and {r["provider"]["code"] for r in rows} == {police}
    assert {r["status"] for r in rows} == {"published"}
    base = json.loads(govshare("list", "--classification", "1", "--json").stdout)
    assert base and all(r["code"].startswith("1") for r in base)


def test_show_prints_metadata_and_items():
    result = govshare("show", "101/000001")
    assert result.exit_code == 0
    assert "深圳市公安局" in result.stdout and "公民身份号码" in result.stdout
    data = json.loads(govshare("show", "101/000001", "--json").stdout)
    assert data["code"] == "101/000001"
    assert data["items"][0]["name"] == "公民身份号码"


def test_show_unknown_code_fails_with_the_error_code():
    result = govshare("show", "101/999999")
    assert result.exit_code == 1
    assert "resource_not_found" in result.stderr


def test_search_ranks_and_pages_like_the_api():
    found = json.loads(govshare("search", "人口", "--json").stdout)
    assert found["results"][0]["code"] == "101/000001"
    conditional = json.loads(govshare("search", "信息", "--sharing-type", "conditional", "--json").stdout)
    assert conditional["total"] > 0
    assert {r["sharing_type"] for r in conditional["results"]} == {"conditional"}
    second = json.loads(govshare("search", "信息", "--page-size", "1", "--page", "2", "--json").stdout)
    assert (second["page"], len(second["results"])) == (2, 1)
    table = govshare("search", "营业执照")
    assert "营业执照电子证照" in table.stdout and "共 1 条" in table.stdout


def test_export_json_and_csv_hold_every_published_resource(tmp_path):
    govshare("export", "--format", "json", "--output", tmp_path / "c.json")
    exported = json.loads((tmp_path / "c.json").read_text())
    assert len(exported) == published_count()
    assert all(r["status"] == "published" for r in exported)
    govshare("export", "--format", "csv", "--output", tmp_path / "c.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "c.csv").read_text("utf-8-sig"))))
    assert len({r["信息资源代码"] for r in rows}) == published_count()
    assert sum(len(r["items"]) for r in exported) == len(rows)
    # The CSV is a catalog sheet: importing it again is refused as duplicates, not as unreadable.
    again = govshare("import", tmp_path / "c.csv", "--as", "admin", "--dry-run")
    assert again.exit_code == 1
    assert "duplicate_resource" in again.stdout


def test_export_dcat_turtle_and_jsonld(tmp_path):
    govshare(
        "export",
        "--format",
        "ttl",
        "--output",
        tmp_path / "c.ttl",
        "--base-url",
        "https://data.example.gov.cn",
    )
    graph = Graph().parse(tmp_path / "c.ttl", format="turtle")
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) == published_count()
    jsonld = govshare("export", "--format", "jsonld")
    assert Graph().parse(data=jsonld.stdout, format="json-ld")


def test_template_then_import_registers_drafts(tmp_path):
    for suffix in ("xlsx", "csv"):
        result = govshare("template", tmp_path / f"t.{suffix}")
        assert result.exit_code == 0
        assert sheet.parse((tmp_path / f"t.{suffix}").read_bytes(), f"t.{suffix}").resources
    assert govshare("template", tmp_path / "t.txt").exit_code == 1
    result = govshare("import", tmp_path / "t.xlsx", "--as", "market_officer", "--report", tmp_path / "r.csv")
    assert result.exit_code == 0, result.output
    assert "已登记 1 个信息资源" in result.stdout
    code = result.stdout.strip().rsplit("：", 1)[1]
    assert json.loads(govshare("show", code, "--json").stdout)["status"] == "draft"
    assert (tmp_path / "r.csv").read_text("utf-8-sig").strip() == "row,column,code,message"


def test_import_of_a_bad_sheet_prints_and_writes_the_report_and_stores_nothing(tmp_path):
    before = govshare("list", "--json").stdout
    header = [
        "信息资源分类",
        "信息资源名称",
        "信息资源摘要",
        "共享类型",
        "共享方式",
        "信息项名称",
        "数据类型",
    ]
    rows = [
        header,
        ["101", "命令行导入测试", "摘要", "01", "联机查询", "姓名", "C"],
        ["101", "长" * 51, "摘要", "01", "联机查询", "姓名", "C"],
        ["101", "命令行导入测试二", "摘要", "01", "联机查询", "姓名", "Z"],
    ]
    (tmp_path / "bad.csv").write_text("\n".join(",".join(r) for r in rows), encoding="gb18030")
    result = govshare(
        "import", tmp_path / "bad.csv", "--as", "police_officer", "--report", tmp_path / "r.csv"
    )
    assert result.exit_code == 1
    assert "name_too_long" in result.stdout and "invalid_data_type" in result.stdout
    assert "sheet_invalid" in result.stderr
    report = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text("utf-8-sig"))))
    assert [(r["row"], r["column"], r["code"]) for r in report] == [
        ("3", "信息资源名称", "name_too_long"),
        ("4", "数据类型", "invalid_data_type"),
    ]
    assert govshare("list", "--json").stdout == before


def test_import_dry_run_stores_nothing(tmp_path):
    before = govshare("list", "--json").stdout
    (tmp_path / "t.csv").write_bytes(sheet_template.template_csv())
    result = govshare("import", tmp_path / "t.csv", "--as", "admin", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "试运行" in result.stdout
    assert govshare("list", "--json").stdout == before


def test_import_refuses_an_unknown_user_and_a_file_in_the_wrong_encoding(tmp_path):
    (tmp_path / "t.csv").write_bytes(sheet_template.template_csv())
    assert govshare("import", tmp_path / "t.csv", "--as", "nobody").exit_code == 1
    (tmp_path / "bad.csv").write_bytes(sheet_template.template_csv() + b"\x81\xff\xfe\n")
    result = govshare("import", tmp_path / "bad.csv", "--as", "admin")
    assert result.exit_code == 1
    assert "invalid_encoding" in result.stdout and "第 3 行" in result.stderr


def test_a_database_that_was_never_migrated_gets_a_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    result = govshare("list")
    assert result.exit_code == 1
    assert "govshare db upgrade" in result.stderr
