"""Telling every process that the data changed: Postgres LISTEN/NOTIFY on one channel.

:func:`db.data_version.bump_data_version` notifies :data:`CHANNEL` with the new version
inside the writing transaction: Postgres delivers it when that transaction commits,
and never for one rolled back. :func:`follow_versions` listens on a connection of its
own and calls back with each version committed, by any process on any host.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import sqlalchemy as sa

log = logging.getLogger("icp.notify")

CHANNEL = "icp_data_version"


def notify_version(conn: sa.Connection, version: int) -> None:
    """Announce ``version`` to every listener once ``conn``'s transaction commits."""
    conn.execute(sa.text("SELECT pg_notify(:channel, :version)"),
                 {"channel": CHANNEL, "version": str(version)})


def follow_versions(
    engine: sa.Engine,
    on_version: Callable[[int], object],
    stop: threading.Event,
    *,
    poll_s: float = 1.0,
    retry_s: float = 5.0,
) -> None:
    """Call ``on_version(version)`` for each data version committed from now on, until
    ``stop`` is set (checked every ``poll_s``).

    Listens on its own autocommit connection. A lost connection is opened again after
    ``retry_s``, and ``on_version`` is then called with the current version: a change
    may have committed while nobody listened. A failing ``on_version`` is logged; the
    following continues.
    """
    import psycopg

    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    reconnected = False
    while not stop.is_set():
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                if reconnected:
                    row = conn.execute("SELECT version FROM data_version WHERE id = 1").fetchone()
                    _call(on_version, int(row[0]) if row else 0)
                while not stop.is_set():
                    # Versions committed within one wait are followed once, at the latest.
                    versions = [int(note.payload) for note in conn.notifies(timeout=poll_s)]
                    if versions:
                        _call(on_version, max(versions))
        except psycopg.Error as exc:
            log.warning("following data versions: %s; again in %g s", exc, retry_s)
            reconnected = True
            stop.wait(retry_s)


def _call(on_version: Callable[[int], object], version: int) -> None:
    try:
        on_version(version)
    except Exception:  # a listener's failure must not end the listening
        log.exception("after data version %d", version)
