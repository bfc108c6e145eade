import pytest
from pydantic import ValidationError

from govshare.core.settings import DEVELOPMENT_SECRET, Settings


def test_production_refuses_the_default_secret(monkeypatch):
    monkeypatch.delenv("GOVSHARE_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="GOVSHARE_SECRET_KEY"):
        Settings(environment="production")


def test_every_environment_but_development_refuses_the_default_secret(monkeypatch):
    monkeypatch.delenv("GOVSHARE_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError):
        Settings(environment="test")
    assert Settings(environment="development").secret_key.get_secret_value() == DEVELOPMENT_SECRET


def test_production_refuses_a_short_secret():
    with pytest.raises(ValidationError):
        Settings(environment="production", secret_key="short")


def test_production_accepts_a_real_secret():
    s = Settings(environment="production", secret_key="x" * 40)
    assert s.secret_key.get_secret_value() != DEVELOPMENT_SECRET


def test_database_url_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert Settings().database_url == "postgresql+psycopg://u@h/db"


def test_default_database_is_a_sqlite_file_in_the_working_directory(monkeypatch):
    monkeypatch.delenv("GOVSHARE_DATABASE_URL", raising=False)
    assert Settings().database_url == "sqlite:///govshare.db"


def test_every_setting_is_documented():
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
