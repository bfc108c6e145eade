"""Configuration (配置): one settings class, read from the environment once.

Every setting is read from a ``GOVSHARE_`` environment variable (or a ``.env`` file in the working
directory); ``govshare settings`` prints them with their help text.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "govshare-development-secret-change-me"


class Settings(BaseSettings):
    """govshare settings; each field is documented because `govshare settings` shows it to operators."""

    model_config = SettingsConfigDict(env_prefix="GOVSHARE_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        "development", description="development / test / production; production refuses unsafe defaults."
    )
    database_url: str = Field(
        "sqlite:///govshare.db",
        description="SQLAlchemy URL. Default: a SQLite file in the working directory; "
        "production: postgresql+psycopg://user@host/db.",
    )
    secret_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_SECRET),
        description="Signs session cookies and links. Must be set (≥32 chars) outside development.",
    )
    base_url: str = Field(
        "http://127.0.0.1:8000", description="Public URL of this platform; used in DCAT URIs and links."
    )
    default_locale: Literal["zh_CN", "en"] = Field("zh_CN", description="UI language when none is chosen.")
    api_token_ttl_hours: int = Field(12, ge=1, le=24 * 30, description="Lifetime of a user's API token.")
    max_upload_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest accepted upload (catalog sheets), in bytes."
    )
    max_data_upload_bytes: int = Field(
        2 * 1024**3, ge=1024, description="Largest data file accepted by /api/v1/data uploads, in bytes."
    )
    search_page_size_max: int = Field(100, ge=1, description="Largest page a catalog search returns.")
    error_report_deadline_days: int = Field(
        5,
        ge=1,
        le=60,
        description="Working days (工作日) a provider has to answer a data error report (数据纠错).",
    )
    metrics_token: str | None = Field(
        None,
        description="Bearer token a Prometheus scraper sends to read /metrics from another host; "
        "unset: /metrics answers only clients on this machine (loopback).",
    )
    redis_url: str | None = Field(
        None,
        description="Redis for state shared by several platform processes (rate-limit buckets), e.g. "
        "redis://127.0.0.1:6379/0. Unset: each process keeps its own.",
    )
    exchange_data_lane: bool = Field(
        True,
        description="Answer the data API's lookup (GET …/records/{key}) in a lean ASGI handler in front of "
        "the web framework's routing and dependency injection (same rules, answers and audit; about half "
        "the CPU per call). false: every call goes through the framework route.",
    )
    exchange_rate_limit_per_minute: int = Field(
        600,
        ge=1,
        le=1_000_000,
        description="Requests per minute a grant allows (限流, token bucket with bursts of the same size) "
        "when its approval set no rate limit of its own.",
    )
    exchange_token_ttl_seconds: int = Field(
        600,
        ge=60,
        le=3600,
        description="Lifetime of an application's access token from /api/v1/oauth/token, in seconds; "
        "also how long a retired signing key keeps verifying the tokens it signed.",
    )
    exchange_secret_grace_minutes: int = Field(
        0,
        ge=0,
        le=7 * 24 * 60,
        description="Default minutes an application's old client secret keeps working after a rotation "
        "(0: it stops at once). A rotation may ask for its own grace to roll the new secret out.",
    )

    exchange_request_stages: str = Field(
        "provider:10",
        pattern=r"^(compliance|provider|provider_unpublished):\d{1,2}(,(compliance|provider|provider_unpublished):\d{1,2})*$",
        description="Review stages of an access request (共享申请) to a conditional resource, in order, each "
        "with its deadline in working days (工作日): `compliance` is the platform authority's compliance "
        "review (符合性审查), `provider` the providing department's decision (required). "
        "`provider_unpublished:N` gives the provider N working days instead when the resource has no "
        "data on the platform yet. Example: compliance:2,provider:5,provider_unpublished:10.",
    )
    exchange_grant_max_days: int = Field(
        1095,
        ge=1,
        le=3650,
        description="Longest validity of a grant (授权), in calendar days from its start; a request or a "
        "renewal asking for longer is refused.",
    )
    exchange_demand_deadline_days: int = Field(
        20,
        ge=1,
        le=120,
        description="Working days a department has to answer a data demand (需求清单) assigned to it: "
        "register and publish the resource, or explain why not.",
    )

    audit_checkpoint_every: int = Field(
        1000,
        ge=1,
        le=10_000_000,
        description="The audit log (调用日志) signs a checkpoint (Ed25519) after every N entries; "
        "`govshare audit checkpoint` signs one on demand.",
    )

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        secret = self.secret_key.get_secret_value()
        if self.environment != "development" and (secret == DEVELOPMENT_SECRET or len(secret) < 32):
            raise ValueError(
                f"GOVSHARE_SECRET_KEY must be set to a random value of at least 32 characters "
                f"when GOVSHARE_ENVIRONMENT={self.environment}"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once on first use (never at import time)."""
    return Settings()
