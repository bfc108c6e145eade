"""`govshare exchange …` through Typer's CliRunner, on a migrated demo database of each backend."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from govshare.cli import app
from govshare.core.db import make_engine
from govshare.core.errors import Unauthenticated
from govshare.exchange import cli as exchange_cli
from govshare.exchange import service
from tests.conftest import cli_demo_db, database_env

runner = CliRunner()
COMMANDS = [*exchange_cli.app.registered_commands, *exchange_cli.apps.registered_commands]


demo_db = cli_demo_db("exchange_cli")


@pytest.fixture(autouse=True)
def database(demo_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with database_env(monkeypatch, demo_db):
        yield demo_db


def govshare(*args: str):
    result = runner.invoke(app, ["exchange", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def _authenticates(url: str, client_id: str, secret: str) -> bool:
    engine = make_engine(url)
    try:
        with sessionmaker(bind=engine)() as session:
            service.authenticate_client(session, client_id, secret)
        return True
    except Unauthenticated:
        return False
    finally:
        engine.dispose()


def _create(name: str) -> tuple[int, str, str]:
    result = govshare(
        "app", "create", "--as", "police_officer", "--name", name, "--channel", "wechat",
        "--contact", "王五", "--phone", "0755-88880000",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    app_id = int(re.search(r"registered application (\d+)", result.stdout).group(1))
    client_id = re.search(r"client_id:\s+(\S+)", result.stdout).group(1)
    secret = re.search(r"client_secret:\s+(\S+)", result.stdout).group(1)
    return app_id, client_id, secret


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_every_command_explains_itself_in_chinese_then_english(command):
    paragraphs = inspect.getdoc(command.callback).split("\n\n")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in paragraphs[0])
    assert paragraphs[-1].isascii()


def test_create_shows_the_secret_once_and_list_shows_the_application(database):
    app_id, client_id, secret = _create("i深圳 警务服务")
    assert _authenticates(database, client_id, secret)
    listed = json.loads(govshare("app", "list", "--as", "police_officer", "--json").stdout)
    mine = next(a for a in listed if a["id"] == app_id)
    assert mine["client_id"] == client_id and mine["channel"] == "wechat"
    assert secret not in govshare("app", "list", "--as", "police_officer").stdout
    shown = govshare("app", "show", str(app_id), "--as", "police_officer")
    assert "registered" in shown.stdout and "police_officer" in shown.stdout and secret not in shown.stdout


def test_rotate_secret_then_revoke(database):
    app_id, client_id, old = _create("警务通")
    rotated = govshare("app", "rotate-secret", str(app_id), "--as", "police_officer")
    assert rotated.exit_code == 0, rotated.output
    new = re.search(r"client_secret:\s+(\S+)", rotated.stdout).group(1)
    assert not _authenticates(database, client_id, old) and _authenticates(database, client_id, new)
    revoked = govshare("app", "revoke", str(app_id), "--as", "police_officer", "--reason", "密钥泄露")
    assert revoked.exit_code == 0 and not _authenticates(database, client_id, new)
    disabled = govshare("app", "disable", str(app_id), "--as", "police_officer")
    assert disabled.exit_code == 0
    again = govshare("app", "rotate-secret", str(app_id), "--as", "police_officer")
    assert again.exit_code == 1 and "application_disabled" in again.output


def test_other_departments_and_unknown_users_are_refused(database):
    app_id, _, _ = _create("出入境预约")
    other = govshare("app", "revoke", str(app_id), "--as", "market_officer")
    assert other.exit_code == 1 and "not_own_application" in other.output
    ghost = govshare("app", "list", "--as", "nobody")
    assert ghost.exit_code == 1 and "user_not_found" in ghost.output
    bad = govshare(
        "app", "create", "--as", "police_officer", "--name", "x", "--channel", "app",
        "--contact", "王五", "--phone", "123",
    )  # fmt: skip
    assert bad.exit_code == 1 and "invalid_phone" in bad.output


def test_rotate_key_makes_a_new_signing_key_and_keeps_the_old_listed():
    first = govshare("rotate-key")
    second = govshare("rotate-key")
    assert first.exit_code == 0 and second.exit_code == 0
    new_kid = re.search(r"new signing key (\S+);", second.stdout).group(1)
    old_kid = re.search(r"new signing key (\S+);", first.stdout).group(1)
    listed = govshare("keys").stdout.splitlines()
    assert new_kid in listed[2] and "active" in listed[2]
    assert any(old_kid in line and "active" not in line for line in listed)
