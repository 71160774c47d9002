"""Runtime configuration read from the environment, once (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Config(BaseSettings):
    """Every environment variable ICP Lens reads, with its default."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    database_url: str | None = Field(
        default=None, description="Postgres URL; unset = embedded Postgres in ICP_DATA_DIR."
    )
    icp_data_dir: Path = Field(
        default=Path(".icp"), description="Folder for the embedded Postgres and local state."
    )
    icp_host: str = Field(default="127.0.0.1", description="Address the dev server binds.")
    icp_port: int = Field(default=8050, description="Port the dev server binds.")
    icp_upload_max_mb: int = Field(default=50, description="Upload size cap per file, in MB.")
    icp_max_rows: int = Field(default=2_000_000, description="Row cap per imported file.")
    redis_url: str | None = Field(default=None, description="Redis for the shared metrics cache.")
    icp_cache_dir: Path | None = Field(
        default=None, description="Filesystem cache folder (default ICP_DATA_DIR/cache)."
    )
    icp_secret_key: str | None = Field(default=None, description="Flask session signing key.")

    @property
    def pgdata(self) -> Path:
        """Data folder of the embedded Postgres."""
        return self.icp_data_dir / "pgdata"

    @property
    def cache_dir(self) -> Path:
        return self.icp_cache_dir or self.icp_data_dir / "cache"


@lru_cache(maxsize=1)
def get_config() -> Config:
    """The process-wide configuration, read from the environment on first use."""
    return Config()
