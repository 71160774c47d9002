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
    icp_import_memory_mb: int = Field(
        default=4096, ge=256, description="Memory cap of one import job's process, in MB."
    )
    icp_import_timeout_s: int = Field(
        default=1800, ge=10, description="Time cap of one import job, in seconds (wall and CPU)."
    )
    redis_url: str | None = Field(default=None, description="Redis for the shared metrics cache.")
    icp_cache_dir: Path | None = Field(
        default=None, description="Filesystem cache folder (default ICP_DATA_DIR/cache)."
    )
    icp_secret_key: str | None = Field(default=None, description="Flask session signing key.")
    icp_session_hours: float = Field(
        default=12, description="Hours a sign-in lasts before the user must sign in again."
    )
    icp_cookie_secure: bool = Field(
        default=True, description="Send the session cookie over HTTPS only (off in local mode)."
    )
    icp_login_max_attempts: int = Field(
        default=5,
        description="Failed sign-ins of one account from one client address before a wait.",
    )
    icp_login_window_minutes: int = Field(
        default=15, description="Window (and longest wait) of the sign-in rate limit, in minutes."
    )
    icp_oidc_issuer: str | None = Field(
        default=None, description="OpenID Connect issuer URL; set with the client id to enable SSO."
    )
    icp_oidc_client_id: str | None = Field(default=None, description="OpenID Connect client id.")
    icp_oidc_client_secret: str | None = Field(
        default=None, description="OpenID Connect client secret."
    )
    icp_oidc_role_claim: str | None = Field(
        default=None, description="ID-token claim holding the role (viewer, analyst or admin)."
    )
    icp_oidc_default_role: str = Field(
        default="viewer", description="Role of an auto-provisioned SSO user without a role claim."
    )
    icp_oidc_allowed_domains: str | None = Field(
        default=None,
        description="Comma-separated email domains whose SSO users are added on first sign-in.",
    )
    icp_bind: str = Field(default="0.0.0.0:8000", description="Address gunicorn binds.")
    icp_workers: int = Field(default=4, description="Gunicorn worker processes.")
    icp_threads: int = Field(default=4, description="Threads per gunicorn worker.")
    icp_timeout: int = Field(default=120, description="Seconds before gunicorn restarts a stuck worker.")
    icp_log_level: str = Field(default="INFO", description="Log level of the JSON logs.")
    icp_public_url: str | None = Field(
        default=None,
        description="The dashboard's address as its users reach it; the digest links to it.",
    )
    icp_smtp_url: str | None = Field(
        default=None,
        description="SMTP server of the digest: smtp://user:password@host:port (smtps:// for "
        "TLS from the start).",
    )
    icp_smtp_starttls: bool = Field(
        default=False, description="Upgrade the smtp:// connection with STARTTLS before sending."
    )
    icp_smtp_from: str | None = Field(
        default=None, description="From address of the digest (default icp-lens@<this host>)."
    )
    icp_chromium: Path = Field(
        default=Path("/usr/bin/chromium"),
        description="Chromium that prints the board pack (PDF) and the scorecard PNG.",
    )
    icp_proxy_count: int = Field(
        default=0,
        description="Reverse proxies in front of the app whose X-Forwarded-* headers are trusted"
        " (ignored in local mode).",
    )

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
