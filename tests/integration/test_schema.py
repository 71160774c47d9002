"""The schema: migrations up and down, and constraints that reject bad rows."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from db import migrate
from db.engine import drop_database, ensure_database
from db.schema import metadata

D = dt.date


def test_migrations_upgrade_from_empty_and_downgrade(pg_admin_url: str) -> None:
    name = "icp_test_migrations"
    drop_database(pg_admin_url, name)
    ensure_database(pg_admin_url, name)
    url = sa.make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    eng = sa.create_engine(url)
    try:
        assert migrate.current_revision(eng) is None
        migrate.upgrade(url)
        assert migrate.is_current(eng)
        tables = set(sa.inspect(eng).get_table_names())
        assert set(metadata.tables) <= tables
        with eng.connect() as conn:
            assert conn.scalar(sa.text("SELECT version FROM data_version")) == 0
        migrate.downgrade(url, "base")
        assert migrate.current_revision(eng) is None
        assert set(sa.inspect(eng).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(url)
        assert migrate.is_current(eng)
    finally:
        eng.dispose()
        drop_database(pg_admin_url, name)


def test_schema_matches_models(engine: sa.Engine) -> None:
    """The migrations create exactly what db/schema.py declares (no drift)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []


def _account(conn: sa.Connection, account_id: str = "A1", **kw: object) -> None:
    row = {"account_id": account_id, "vertical": "Retail", **kw}
    cols = ", ".join(row)
    conn.execute(sa.text(f"INSERT INTO accounts ({cols}) VALUES ({', '.join(':' + c for c in row)})"), row)


BAD_ROWS = [
    ("INSERT INTO subscriptions (subscription_id, account_id, start_date, mrr) VALUES ('S1','A1','2024-01-01',-5)", "mrr_not_negative"),
    ("INSERT INTO subscriptions (subscription_id, account_id, start_date, end_date, mrr) VALUES ('S1','A1','2024-02-01','2024-01-31',5)", "end_after_start"),
    ("INSERT INTO subscriptions (subscription_id, account_id, start_date, mrr) VALUES ('S1','NOPE','2024-01-01',5)", "fk_subscriptions_account_id_accounts"),
    ("INSERT INTO opportunities (opportunity_id, account_id, created_date, close_date, status, amount) VALUES ('O1','A1','2024-01-01','2024-01-02','pending',5)", "ck_opportunities_status"),
    ("INSERT INTO opportunities (opportunity_id, account_id, created_date, close_date, status, amount) VALUES ('O1','A1','2024-01-05','2024-01-01','won',5)", "close_after_created"),
    ("INSERT INTO opportunities (opportunity_id, account_id, created_date, status, amount) VALUES ('O1','A1','2024-01-05','won',5)", "closed_has_close_date"),
    ("INSERT INTO opportunities (opportunity_id, account_id, opportunity_type, created_date, status, amount) VALUES ('O1','A1','upsell','2024-01-05','open',5)", "opportunity_type"),
    ("INSERT INTO opportunities (opportunity_id, account_id, created_date, status, amount) VALUES ('O1','A1','2024-01-05','open',-1)", "amount_not_negative"),
    ("INSERT INTO mrr_monthly (account_id, month, mrr) VALUES ('A1','2024-01-15',5)", "month_first_day"),
    ("INSERT INTO accounts (account_id, vertical, size_band) VALUES ('A2','Retail','Huge')", "size_band"),
    ("INSERT INTO accounts (account_id, vertical, employees) VALUES ('A2','Retail',-3)", "employees_not_negative"),
    ("INSERT INTO accounts (account_id, vertical) VALUES ('A1','Retail')", "pk_accounts"),
    ("INSERT INTO users (email, role) VALUES ('a@b.co','owner')", "ck_users_role"),
]


@pytest.mark.parametrize(("sql", "constraint"), BAD_ROWS, ids=[c for _, c in BAD_ROWS])
def test_constraints_reject_bad_rows(db: sa.Engine, sql: str, constraint: str) -> None:
    with db.begin() as conn:
        _account(conn)
    with pytest.raises(sa.exc.IntegrityError) as err, db.begin() as conn:
        conn.execute(sa.text(sql))
    assert constraint in err.value.orig.diag.constraint_name


def test_good_rows_are_accepted(db: sa.Engine) -> None:
    with db.begin() as conn:
        _account(conn, size_band="SMB", employees=12)
        conn.execute(sa.text("INSERT INTO subscriptions (subscription_id, account_id, start_date, end_date, mrr) VALUES ('S1','A1','2024-01-01','2024-01-01',0)"))
        conn.execute(sa.text("INSERT INTO mrr_monthly (account_id, month, mrr) VALUES ('A1','2024-01-01',10.5)"))
        conn.execute(sa.text("INSERT INTO opportunities (opportunity_id, account_id, created_date, close_date, status, amount) VALUES ('O1','A1','2024-01-01','2024-01-01','won',0)"))
        assert conn.scalar(sa.text("SELECT sub_industry FROM accounts")) == "Unspecified"
        assert conn.scalar(sa.text("SELECT opportunity_type FROM opportunities")) == "new_business"
