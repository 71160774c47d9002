"""Migrations that move data: what 0002 does to a warehouse written under 0001."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from db import migrate
from db.engine import drop_database, ensure_database
from db.queries import load_settings


@pytest.fixture
def at_0001(pg_admin_url: str) -> Iterator[tuple[str, sa.Engine]]:
    """A database migrated to 0001 only, dropped afterwards."""
    name = "icp_test_migration_0002"
    drop_database(pg_admin_url, name)
    ensure_database(pg_admin_url, name)
    url = sa.make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url, "0001")
    eng = sa.create_engine(url)
    yield url, eng
    eng.dispose()
    drop_database(pg_admin_url, name)


def _setting(conn: sa.Connection, key: str, value: dict) -> None:
    conn.execute(
        sa.text("INSERT INTO settings (key, value) VALUES (:k, CAST(:v AS jsonb))"),
        {"k": key, "v": json.dumps(value)},
    )


def test_legacy_declared_icp_row_is_folded_into_metrics(at_0001) -> None:
    url, eng = at_0001
    with eng.begin() as conn:
        _setting(conn, "metrics", {"min_accounts": 3, "declared_icp": {"vertical": ["Retail"]}})
        # The legacy row overrode the page's value: after the fold it is what is kept.
        _setting(conn, "declared_icp", {"vertical": ["Banking"]})
    migrate.upgrade(url)
    with eng.connect() as conn:
        keys = conn.scalars(sa.text("SELECT key FROM settings")).all()
    assert keys == ["metrics"]
    settings = load_settings(eng)
    assert settings.min_accounts == 3
    assert settings.declared_icp == {"vertical": ["Banking"]}


def test_legacy_declared_icp_row_alone_becomes_the_metrics_row(at_0001) -> None:
    url, eng = at_0001
    with eng.begin() as conn:
        _setting(conn, "declared_icp", {"region": ["EMEA"]})
    migrate.upgrade(url)
    settings = load_settings(eng)
    assert settings.declared_icp == {"region": ["EMEA"]}
    assert settings.min_accounts == 10  # the defaults of METRICS.md otherwise


def test_batches_loaded_by_icp_demo_are_marked_as_demo(at_0001) -> None:
    url, eng = at_0001
    with eng.begin() as conn:
        for user in ("demo", "revops"):
            conn.execute(
                sa.text(
                    "INSERT INTO import_batches (created_by, status, kinds) "
                    "VALUES (:u, 'committed', 'accounts')"
                ),
                {"u": user},
            )
    migrate.upgrade(url)
    with eng.connect() as conn:
        marked = conn.execute(
            sa.text("SELECT created_by, is_demo FROM import_batches ORDER BY batch_id")
        ).all()
    assert [tuple(r) for r in marked] == [("demo", True), ("revops", False)]
