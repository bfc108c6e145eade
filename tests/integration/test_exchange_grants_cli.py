"""`govshare exchange request|grant|demand` through Typer's CliRunner, on a demo database of each backend."""

from __future__ import annotations

import inspect
import json
import re

import pytest

from govshare.demo.seed import department_code
from govshare.exchange import grants_cli
from tests.integration.test_exchange_cli import database, demo_db, govshare  # noqa: F401  (fixtures)

COMMANDS = [
    *grants_cli.request_app.registered_commands,
    *grants_cli.grant_app.registered_commands,
    *grants_cli.demand_app.registered_commands,
]
MARRIAGE = "201/000001"  # 婚姻登记信息 of 民政局, conditional in the demo catalog


def ok(*args: str) -> str:
    result = govshare(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_every_command_explains_itself_in_chinese_then_english(command):
    paragraphs = inspect.getdoc(command.callback).split("\n\n")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in paragraphs[0])
    assert paragraphs[-1].isascii()


def _request(name: str) -> int:
    created = ok(
        "app", "create", "--as", "market_officer", "--name", name, "--channel", "web", "--contact", "张三",
        "--phone", "13800138000",
    )  # fmt: skip
    app_id = re.search(r"registered application (\d+)", created).group(1)
    filed = ok(
        "request", "create", "--as", "market_officer", "--application", app_id, "--resource", MARRIAGE,
        "--operation", "lookup", "--operation", "verify", "--item", "公民身份号码", "--item", "婚姻状况",
        "--purpose", "企业开办时核验婚姻状况",
    )  # fmt: skip
    assert "pending at provider, due " in filed
    return int(re.search(r"request (\d+)", filed).group(1))


def test_a_request_decided_narrowed_then_its_grant_suspended_resumed_renewed_revoked():
    request_id = _request("企业开办一网通办")
    inbox = json.loads(ok("request", "list", "--as", "civil_officer", "--json"))
    mine = next(r for r in inbox if r["id"] == request_id)
    assert mine["status"] == "pending" and mine["due_at"] and mine["overdue"] is False
    refused = govshare("request", "decide", str(request_id), "approve", "--as", "police_officer")
    assert refused.exit_code == 1 and "not_party" in refused.output  # a third department does not see it
    decided = ok(
        "request", "decide", str(request_id), "approve", "--as", "civil_officer", "--item", "婚姻状况",
        "--operation", "verify", "--conditions", "仅限企业开办", "--rate-limit", "10",
    )  # fmt: skip
    grant_id = re.search(r"grant (\d+)", decided).group(1)
    grant = json.loads(ok("grant", "show", grant_id, "--as", "market_officer"))
    assert grant["items"] == [{"name": "婚姻状况", "unmasked": False}] and grant["operations"] == ["verify"]
    assert "suspended" in ok("grant", "suspend", grant_id, "--as", "civil_officer", "--reason", "核查")
    assert "active" in ok("grant", "resume", grant_id, "--as", "admin", "--reason", "核查完毕")
    assert "until 2029-01-31" in ok(
        "grant", "renew", grant_id, "--as", "civil_officer", "--valid-to", "2029-01-31"
    )
    assert "revoked" in ok("grant", "revoke", grant_id, "--as", "civil_officer", "--reason", "业务终止")
    listed = json.loads(ok("grant", "list", "--as", "market_officer", "--json"))
    assert next(g for g in listed if g["id"] == int(grant_id))["status"] == "revoked"


def test_a_rejection_escalated_and_decided_finally():
    request_id = str(_request("公积金贷款"))
    no_reason = govshare("request", "decide", request_id, "reject", "--as", "civil_officer")
    assert no_reason.exit_code == 1 and "reason_required" in no_reason.output
    ok("request", "decide", request_id, "reject", "--as", "civil_officer", "--reason", "用途不明")
    ok("request", "escalate", request_id, "--as", "market_officer", "--reason", "用途明确")
    assert "(final)" in ok(
        "request", "decide", request_id, "approve", "--as", "admin", "--reason", "应予共享"
    )
    history = json.loads(ok("request", "show", request_id, "--as", "market_officer"))["decisions"]
    assert [d["decision"] for d in history] == ["submitted", "rejected", "escalated", "final_approved"]


def test_a_demand_filed_assigned_and_answered():
    filed = ok(
        "demand", "file", "--as", "market_officer", "--title", "个体工商户年报信息", "--reason", "信用监管"
    )
    demand_id = re.search(r"demand (\d+)", filed).group(1)
    assert "assigned, due " in ok(
        "demand", "assign", demand_id, "--as", "admin", "--department", department_code("tax")
    )
    assert "declined" in ok(
        "demand", "answer", demand_id, "--as", "tax_officer", "--reason", "不属于本部门职责"
    )
    listed = json.loads(ok("demand", "list", "--json"))
    assert next(d for d in listed if d["id"] == int(demand_id))["status"] == "declined"
