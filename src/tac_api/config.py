"""Settings, read once from TAC_* environment variables."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TAC_", extra="ignore")

    # `production` refuses the embedded SQLite default: production data lives in PostgreSQL, and the
    # database URL (which carries the only secret, its password) must be given explicitly.
    environment: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///var/tac.db"
    # Per API process. One worker serves dozens of requests at once; a pool smaller than that makes
    # them queue for a connection, and overflow connections are opened and closed on every burst.
    database_pool_size: int = Field(default=30, ge=1, le=200)
    database_max_overflow: int = Field(default=10, ge=0, le=200)
    # Off: a new connection per request (for tests that run each request on its own event loop).
    database_pool: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    # Requests per minute per client (a minute's worth may come at once); 0 turns limits off.
    rate_limit_per_minute: int = Field(default=600, ge=0)
    # Browser origins allowed to call the API (CORS); none by default: clients are servers.
    cors_origins: list[str] = Field(default_factory=list)
    page_limit_default: int = Field(default=50, ge=1, le=200)
    page_limit_max: int = Field(default=200, ge=1, le=200)
    sql_echo: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _production_needs_postgres(self) -> "Settings":
        if self.environment == "production" and not self.database_url.startswith("postgres"):
            raise ValueError("TAC_ENVIRONMENT=production needs TAC_DATABASE_URL set to PostgreSQL")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
