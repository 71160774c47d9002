"""``icp db backup`` and ``icp db restore``: a restore brings back exactly what was backed up,
moves the data version forward, and refuses without --yes or a backup of another migration."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from app.cli import app
from db import backup, migrate
from db.engine import drop_database, ensure_database
from db.queries import read_data_version
from db.schema import metadata
from tests.integration.test_import_support import GOOD, checksums

runner = CliRunner()
TABLES = tuple(t.name for t in metadata.sorted_tables if t.name != "data_version")
FILES = [str(GOOD / n) for n in ("accounts.csv", "subscriptions.csv", "opportunities.csv")]


def _icp(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_restore_brings_back_the_backup_and_moves_the_version_on(env_db: sa.Engine, tmp_path: Path) -> None:
    _icp("import", *FILES)
    _icp("users", "add", "ann@example.com", "--role", "admin", "--generate")
    saved = checksums(env_db, TABLES)
    dump = tmp_path / "icp.dump"
    assert f"backed up the warehouse (migration {migrate.head_revision()}) to {dump}" in _icp("db", "backup", str(dump))
    assert dump.stat().st_mode & 0o077 == 0  # it holds password hashes

    # Change the data every way a restore must undo: a new import, a rollback, a deletion.
    _icp("import", str(GOOD / "subscriptions_next_month.csv"))
    _icp("import", "rollback", "2")
    with env_db.begin() as conn:
        conn.execute(sa.text("DELETE FROM users"))
    assert checksums(env_db, TABLES) != saved
    version_before = read_data_version(env_db)

    refused = runner.invoke(app, ["db", "restore", str(dump)])
    assert refused.exit_code == 1 and "run again with --yes" in refused.output
    assert checksums(env_db, TABLES) != saved

    out = _icp("db", "restore", str(dump), "--yes")
    assert checksums(env_db, TABLES) == saved
    # Past every version the caches may have seen, the backup's and the replaced warehouse's.
    assert read_data_version(env_db) == version_before + 1
    assert f"data version now {version_before + 1}" in out


def test_a_backup_of_another_migration_is_refused(env_db: sa.Engine, pg_admin_url: str, tmp_path: Path) -> None:
    head = migrate.head_revision()
    previous = ScriptDirectory.from_config(migrate.alembic_config("")).get_revision(head).down_revision
    name = f"icp_test_old_{secrets.token_hex(3)}"
    ensure_database(pg_admin_url, name)
    try:
        old_url = sa.make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
        migrate.upgrade(old_url, previous)
        old = backup.backup(old_url, tmp_path / "old.dump")
    finally:
        drop_database(pg_admin_url, name)
    assert old.revision == previous
    _icp("import", *FILES)
    saved = checksums(env_db, TABLES)

    refused = runner.invoke(app, ["db", "restore", str(old.path), "--yes"])
    assert refused.exit_code == 1
    assert refused.output.startswith(
        f"error: old.dump was made at migration {previous} and this ICP Lens is at migration {head}"
    )
    assert checksums(env_db, TABLES) == saved

    not_a_dump = tmp_path / "accounts.dump"
    not_a_dump.write_bytes((GOOD / "accounts.csv").read_bytes())
    refused = runner.invoke(app, ["db", "restore", str(not_a_dump), "--yes"])
    assert refused.exit_code == 1 and refused.output.startswith("error: reading accounts.dump failed: pg_restore")


def test_tools_must_match_the_servers_major_version() -> None:
    with pytest.raises(backup.BackupError, match=r"no pg_dump of PostgreSQL 9 .*postgresql-client-9"):
        backup.find_tool("pg_dump", 9)
    tool = backup.find_tool("pg_restore", 18)  # the embedded server's, from the wheel
    assert backup.tool_major(tool) == 18
