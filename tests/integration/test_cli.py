"""The root CLI: db upgrade, admin create, demo loading, settings, --help everywhere."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from govshare.auth.models import User
from govshare.cli import app
from govshare.core.db import make_engine, make_session_factory
from govshare.core.settings import get_settings
from tests.factories import dept_code

runner = CliRunner()


@pytest.fixture
def db_env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_every_command_has_help():
    for args in ([], ["db"], ["admin"], ["check"], ["serve"], ["demo"], ["admin", "create"]):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, result.output
        assert "Usage" in result.output


def test_db_upgrade_honours_database_url(db_env):
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    from alembic.script import ScriptDirectory

    from govshare.core.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(db_env)).get_current_head()
    assert f"database at revision {head}" in result.output


def test_admin_create_bootstraps_authority_and_department(db_env):
    args = ["admin", "create", "--username", "root", "--password", "s3cret-pass",
            "--department", dept_code(9), "--department-name", "市政务服务数据管理局"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    session = make_session_factory(make_engine(db_env))()
    user = session.scalar(select(User).where(User.username == "root"))
    assert user.role == "authority" and user.department.name == "市政务服务数据管理局"
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and "duplicate_username" in again.output


def test_admin_create_rejects_malformed_department_code(db_env):
    result = runner.invoke(app, ["admin", "create", "--username", "root", "--password", "s3cret-pass",
                                 "--department", "91440300ABCDEFGHIJ", "--department-name", "某局"])  # fmt: skip
    assert result.exit_code == 1
    assert "invalid_credit_code" in result.output


def test_demo_without_serving_loads_idempotently(db_env):
    first = runner.invoke(app, ["demo", "--no-serve"])
    second = runner.invoke(app, ["demo", "--no-serve"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "12 new catalog entries" in first.output
    assert "0 new catalog entries" in second.output


def test_settings_command_documents_every_setting(db_env):
    result = runner.invoke(app, ["settings"])
    assert "GOVSHARE_DATABASE_URL=" + db_env in result.output
    assert "GOVSHARE_SECRET_KEY=**********" in result.output
