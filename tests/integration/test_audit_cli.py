"""`govshare audit …` through Typer's CliRunner on a migrated database of each backend: verify's exit
codes and report, on-demand checkpoints, key export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from govshare.audit.models import AuditEvent
from govshare.cli import app
from govshare.core.settings import get_settings
from tests.conftest import BACKENDS, TEST_SECRET
from tests.integration.audit_support import allow_tampering, append, committed_database

runner = CliRunner()


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """A migrated database holding 12 audit events, which the CLI opens through GOVSHARE_DATABASE_URL."""
    with committed_database(request.param, tmp_path, "audit_cli") as (url, engine):
        monkeypatch.setenv("GOVSHARE_DATABASE_URL", url)
        monkeypatch.setenv("GOVSHARE_SECRET_KEY", TEST_SECRET)
        monkeypatch.setenv("GOVSHARE_AUDIT_CHECKPOINT_EVERY", "5")
        get_settings.cache_clear()
        with sessionmaker(bind=engine)() as session:
            append(session, get_settings(), 12)
            yield session
        get_settings.cache_clear()


def govshare(*args: str):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["audit", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_verify_exits_zero_on_an_intact_chain(db: Session):
    result = govshare("verify")
    assert result.exit_code == 0, result.output
    assert "完好" in result.output and "1–12" in result.output


def test_verify_exits_non_zero_and_names_the_first_broken_seq(db: Session):
    allow_tampering(db)
    db.execute(update(AuditEvent).where(AuditEvent.seq == 7).values(case_id="改过的办件"))
    db.commit()
    result = govshare("verify")
    assert result.exit_code == 1
    assert "首个在第 7 条（modified）" in result.output
    report = json.loads(govshare("verify", "--json").output)
    assert (report["ok"], report["first_problem"]["seq"], report["verified_to_seq"]) == (False, 7, 6)
    assert govshare("verify", "--from", "8").exit_code == 0


def test_checkpoint_on_demand_and_the_exported_key_that_verifies_it(db: Session):
    result = govshare("checkpoint")
    assert result.exit_code == 0 and "seq=12" in result.output
    keys = json.loads(govshare("keys").output)["keys"]
    assert len(keys) == 1 and keys[0]["kid"] in result.output and "BEGIN PUBLIC KEY" in keys[0]["pem"]
    assert govshare("rotate-key").exit_code == 0
    assert len(json.loads(govshare("keys").output)["keys"]) == 2
    assert govshare("verify").exit_code == 0  # the retired key still verifies its checkpoints


def test_subject_link_needs_the_identity_check_and_prints_a_link(db: Session):
    assert govshare("subject-link", "11010519491231002X").exit_code == 1
    result = govshare("subject-link", "11010519491231002X", "--identity-checked", "--days", "3")
    assert (
        result.exit_code == 0
        and "/audit/subject/" in result.stdout
        and "11010519491231002X" not in result.stdout
    )
